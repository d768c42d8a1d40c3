package api

import (
	"encoding/json"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/money"
)

func (s *Server) escrowRoutes(api *gin.RouterGroup) {
	api.GET("/escrow-transactions/:wallet_address", s.escrowTransactions)
	api.GET("/escrow-balance", s.escrowBalance)
}

// escrowTransactions is the seed's ledger of one escrow: transactionCount and contributors cover
// the whole escrow, transactions is one page (newest first, up to limit, default 200).
func (s *Server) escrowTransactions(c *gin.Context) {
	escrow, err := parseAddress("wallet_address", c.Param("wallet_address"))
	if err != nil {
		fail(c, err)
		return
	}
	cursor, err := queryCursor(c)
	if err != nil {
		fail(c, err)
		return
	}
	limit, err := queryLimit(c, 200, 200)
	if err != nil {
		fail(c, err)
		return
	}
	rep, err := s.b.EscrowTransactions(c.Request.Context(), events.EscrowTransactionsRequest{Escrow: escrow, Cursor: cursor, Limit: limit})
	if err != nil {
		fail(c, err)
		return
	}
	var next *string
	if rep.NextCursor != "" {
		next = strPtr(rep.NextCursor)
	}
	c.JSON(200, gin.H{
		"transactionCount": rep.TransactionCount,
		"contributors":     nonNil(rep.Contributors),
		"transactions":     viewTxs(rep.Transactions),
		"escrow":           rep.Escrow,
		"total_lamports":   money.Lamports(rep.TotalLamports),
		"total_sol":        money.SOLNumber(rep.TotalLamports),
		"next_cursor":      next,
	})
}

// escrowBalance is the seed's live balance of an escrow with its USD value and recent ledger
// entries. The balance comes from the indexer (the chain), the ledger from the campaign service
// and the price from the pricer; they are asked concurrently. An escrow no campaign uses has no
// ledger (transactionCount 0); an unknown SOL price makes balanceUSD null.
func (s *Server) escrowBalance(c *gin.Context) {
	wallet, err := parseAddress("wallet", c.Query("wallet"))
	if err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	var (
		wg     sync.WaitGroup
		bal    events.EscrowBalanceReply
		balErr error
		txs    events.EscrowTransactionsReply
		txErr  error
		price  events.SOLPrice
		prErr  error
	)
	wg.Go(func() { bal, balErr = s.b.EscrowBalance(ctx, wallet) })
	wg.Go(func() {
		txs, txErr = s.b.EscrowTransactions(ctx, events.EscrowTransactionsRequest{Escrow: wallet, Limit: 10})
	})
	wg.Go(func() { price, prErr = s.b.SOLPrice(ctx) })
	wg.Wait()
	if balErr != nil {
		fail(c, balErr)
		return
	}
	if txErr != nil && apperr.CodeOf(txErr) != apperr.NotFound {
		fail(c, txErr)
		return
	}
	var usd, solPrice *json.Number
	if prErr == nil && price.USD != "" {
		if v, err := money.MulDecimal(bal.Lamports, money.SOLDecimals, price.USD, 2); err == nil {
			n, p := json.Number(v), json.Number(price.USD)
			if cp, err := money.DecimalNumber(price.USD); err == nil {
				p = cp
			}
			usd, solPrice = &n, &p
		} else {
			s.log.Warn("sol price not a decimal", "request_id", requestID(c), "usd", price.USD, "err", err)
		}
	} else if prErr != nil {
		s.log.Warn("sol price unavailable for escrow balance", "request_id", requestID(c), "err", prErr)
	}
	c.JSON(200, gin.H{
		"success": true,
		"data": gin.H{
			"address":            wallet,
			"balanceSOL":         money.SOLNumber(bal.Lamports),
			"balanceUSD":         usd,
			"transactionCount":   txs.TransactionCount,
			"recentTransactions": viewTxs(txs.Transactions),
			"balance_lamports":   money.Lamports(bal.Lamports),
			"sol_price_usd":      solPrice,
			"slot":               bal.Slot,
		},
	})
}
