package campaign

import (
	"errors"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/campaign/campaigns"
)

// registerEndpoints exposes the service's operations as micro endpoints on the
// events.SubjectCampaign* subjects. Errors travel as apperr codes (see bus.Handle).
func registerEndpoints(ms *bus.Service, s *campaigns.Service) error {
	return errors.Join(
		bus.Handle(ms, "create", events.SubjectCampaignCreate, s.Create),
		bus.Handle(ms, "get", events.SubjectCampaignGet, s.Get),
		bus.Handle(ms, "list", events.SubjectCampaignList, s.List),
		bus.Handle(ms, "update", events.SubjectCampaignUpdate, s.Update),
		bus.Handle(ms, "cancel", events.SubjectCampaignCancel, s.Cancel),
		bus.Handle(ms, "escrowtx", events.SubjectCampaignEscrowTx, s.EscrowTransactions),
		bus.Handle(ms, "watchlist", events.SubjectCampaignWatch, s.WatchList),
		bus.Handle(ms, "stats", events.SubjectCampaignStats, s.Stats),
	)
}
