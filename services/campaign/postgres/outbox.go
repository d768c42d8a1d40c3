package postgres

import (
	"context"
	"time"

	"github.com/solcrowd/backend/services/campaign/campaigns"
	"gorm.io/gorm"
)

// RelayOutbox implements campaigns.Store. Rows are locked FOR UPDATE SKIP LOCKED, so replicas
// relaying at once take disjoint events; a crash after publishing but before the delete commits
// leaves the rows to be published again under the same dedup id, which JetStream drops.
func (s *Store) RelayOutbox(ctx context.Context, limit int, publish func(context.Context, campaigns.OutboxMessage) error) (int, error) {
	sent := 0
	var perr error
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []struct {
			ID        int64     `gorm:"column:id"`
			Subject   string    `gorm:"column:subject"`
			MsgID     string    `gorm:"column:msg_id"`
			Payload   string    `gorm:"column:payload"`
			CreatedAt time.Time `gorm:"column:created_at"`
		}
		if err := tx.Raw(`SELECT id, subject, msg_id, payload, created_at FROM outbox ORDER BY id LIMIT ?
			FOR UPDATE SKIP LOCKED`, limit).Scan(&rows).Error; err != nil {
			return err
		}
		var done []int64
		for _, r := range rows {
			perr = publish(ctx, campaigns.OutboxMessage{ID: r.ID, Subject: r.Subject, MsgID: r.MsgID,
				Payload: []byte(r.Payload), Created: r.CreatedAt})
			if perr != nil {
				break
			}
			done = append(done, r.ID)
		}
		if len(done) > 0 {
			if err := tx.Exec(`DELETE FROM outbox WHERE id IN ?`, done).Error; err != nil {
				return err
			}
		}
		sent = len(done)
		return nil // commit the deletes of what was published even if a later publish failed
	})
	if err != nil {
		return 0, translate(err, "outbox")
	}
	return sent, perr
}

// OutboxBacklog implements campaigns.Store.
func (s *Store) OutboxBacklog(ctx context.Context, now time.Time) (int64, time.Duration, error) {
	var r struct {
		N      int64      `gorm:"column:n"`
		Oldest *time.Time `gorm:"column:oldest"`
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT count(*) AS n, min(created_at) AS oldest FROM outbox`).Scan(&r).Error; err != nil {
		return 0, 0, translate(err, "outbox")
	}
	if r.Oldest == nil {
		return r.N, 0, nil
	}
	return r.N, max(now.Sub(*r.Oldest), 0), nil
}
