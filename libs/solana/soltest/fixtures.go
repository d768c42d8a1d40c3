package soltest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/fixtures"
)

// fixtureSet is the recorded mainnet data served when Config.LoadFixtures is set.
type fixtureSet struct {
	rentEpoch map[solana.PublicKey]json.Number
	noSpace   map[solana.PublicKey]bool // recorded by a node too old to report "space"
}

// fixtureAccounts names the address of each recorded getAccountInfo/getBalance response
// (the recordings themselves do not carry it; see PROVENANCE.md).
var fixtureAccounts = map[string]string{
	"getaccountinfo-usdc-mint-jsonparsed.json":              "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
	"getaccountinfo-metaplex-metadata-base64.json":          "9VHphpWFmUxVHxzWyeYJYYbQADWZ7X6PLzyWER8Lc3k2",
	"getaccountinfo-pyth-sol-usd-priceupdatev2-base64.json": "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE",
	"getaccountinfo-account-not-found-null.json":            "6F8dWS3nXx4xFH3QdCprFC7Q5pVQ8EHTWC7HQVkBXoNR",
	"getbalance-devnet.json":                                "RNfp4xTbBb4C3kcv2KqtAj8mu4YhMHxqm1Skg9uchZ7",
}

// FixtureAccounts returns the recorded account files and the address each is served at.
func FixtureAccounts() map[string]solana.PublicKey {
	out := map[string]solana.PublicKey{}
	for f, a := range fixtureAccounts {
		out[f] = solana.MustPublicKeyFromBase58(a)
	}
	return out
}

// fixtureSignatureLists names the address each recorded getSignaturesForAddress list belongs to;
// an empty address means "every account of the recorded transaction with that signature".
var fixtureSignatureLists = map[string]string{
	"getsignaturesforaddress-3-entries-web3js.json": "web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2",
	"getsignaturesforaddress-with-memo.json":        "",
}

// FixtureSignatureLists returns the recorded signature-list files and the address each was
// recorded for (for the memo list, the fee payer of its transaction; it is served for every
// account of that transaction).
func FixtureSignatureLists() map[string]solana.PublicKey {
	return map[string]solana.PublicKey{
		"getsignaturesforaddress-3-entries-web3js.json": solana.MustPublicKeyFromBase58("web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2"),
		"getsignaturesforaddress-with-memo.json":        solana.MustPublicKeyFromBase58("FG4Y3yX4AAchp1HvNZ7LfzFTewF2f6nDoMDCohTFrdpT"),
	}
}

// unwrapResult returns "result" of a full JSON-RPC envelope, or the document itself.
func unwrapResult(b []byte) json.RawMessage {
	var env struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  json.RawMessage `json:"result"`
	}
	if json.Unmarshal(b, &env) == nil && env.JSONRPC != "" && env.Result != nil {
		return env.Result
	}
	return json.RawMessage(b)
}

func compact(b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}

// loadFixtures installs the recorded accounts, transactions and signature lists as finalized
// genesis history. The caller holds no lock; the chain is not yet shared.
func loadFixtures(c *Chain) *fixtureSet {
	fs := &fixtureSet{rentEpoch: map[solana.PublicKey]json.Number{}, noSpace: map[solana.PublicKey]bool{}}
	for name, addr := range fixtureAccounts {
		pk := solana.MustPublicKeyFromBase58(addr)
		res := unwrapResult(fixtures.Solana(name))
		var r struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			panic("soltest: fixture " + name + ": " + err.Error())
		}
		if string(r.Value) == "null" {
			continue
		}
		if name == "getbalance-devnet.json" {
			var lam uint64
			json.Unmarshal(r.Value, &lam)
			c.setAccountLocked(pk, &Account{Lamports: lam, Owner: solana.SystemProgramID}, 0)
			continue
		}
		a, re, err := accountFromJSON(r.Value)
		if err != nil {
			panic("soltest: fixture " + name + ": " + err.Error())
		}
		c.setAccountLocked(pk, a, 0)
		fs.rentEpoch[pk] = re
		if !strings.Contains(string(r.Value), `"space"`) {
			fs.noSpace[pk] = true
		}
	}
	var recs []*txRecord
	bySig := map[solana.Signature]*txRecord{}
	for _, name := range fixtures.SolanaNames() {
		if !strings.HasPrefix(name, "gettransaction-") {
			continue
		}
		res := unwrapResult(fixtures.Solana(name))
		r, err := fixtureTx(compact(res))
		if err != nil {
			panic("soltest: fixture " + name + ": " + err.Error())
		}
		recs = append(recs, r)
		bySig[r.sig] = r
	}
	// Signature lists: entries are served verbatim.
	listAddr := map[*txRecord][]solana.PublicKey{}
	for name, addr := range fixtureSignatureLists {
		var entries []json.RawMessage
		if err := json.Unmarshal(unwrapResult(fixtures.Solana(name)), &entries); err != nil {
			panic("soltest: fixture " + name + ": " + err.Error())
		}
		for _, e := range entries {
			var h struct {
				Signature string `json:"signature"`
				Slot      uint64 `json:"slot"`
			}
			json.Unmarshal(e, &h)
			sig := solana.MustSignatureFromBase58(h.Signature)
			r, ok := bySig[sig]
			if !ok {
				r = &txRecord{sig: sig, slot: h.Slot}
				recs = append(recs, r)
				bySig[sig] = r
			}
			r.entry = compact(e)
			if addr != "" {
				listAddr[r] = append(listAddr[r], solana.MustPublicKeyFromBase58(addr))
			}
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].slot < recs[j].slot })
	for _, r := range recs {
		c.txs[r.sig] = r
		seen := map[solana.PublicKey]bool{}
		for _, k := range append(append([]solana.PublicKey(nil), r.keys...), listAddr[r]...) {
			if !seen[k] {
				seen[k] = true
				c.byAddr[k] = append(c.byAddr[k], r)
			}
		}
	}
	return fs
}

func accountFromJSON(v json.RawMessage) (*Account, json.Number, error) {
	var a struct {
		Data       json.RawMessage `json:"data"`
		Executable bool            `json:"executable"`
		Lamports   uint64          `json:"lamports"`
		Owner      string          `json:"owner"`
		RentEpoch  json.Number     `json:"rentEpoch"`
	}
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, "", err
	}
	owner, err := solana.PublicKeyFromBase58(a.Owner)
	if err != nil {
		return nil, "", err
	}
	acc := &Account{Lamports: a.Lamports, Owner: owner, Executable: a.Executable}
	var pair []string
	if json.Unmarshal(a.Data, &pair) == nil && len(pair) == 2 && pair[1] == "base64" {
		acc.Data, err = base64.StdEncoding.DecodeString(pair[0])
		return acc, a.RentEpoch, err
	}
	// jsonParsed mint: rebuild the binary layout from the parsed fields.
	var parsed struct {
		Parsed struct {
			Info struct {
				Decimals        uint8   `json:"decimals"`
				FreezeAuthority *string `json:"freezeAuthority"`
				IsInitialized   bool    `json:"isInitialized"`
				MintAuthority   *string `json:"mintAuthority"`
				Supply          string  `json:"supply"`
			} `json:"info"`
			Type string `json:"type"`
		} `json:"parsed"`
	}
	if err := json.Unmarshal(a.Data, &parsed); err != nil || parsed.Parsed.Type != "mint" {
		return nil, "", errors.New("unsupported account data encoding")
	}
	in := parsed.Parsed.Info
	var m mintState
	m.decimals, m.initialized = in.Decimals, in.IsInitialized
	fmt.Sscan(in.Supply, &m.supply)
	if in.MintAuthority != nil {
		pk := solana.MustPublicKeyFromBase58(*in.MintAuthority)
		m.authority = &pk
	}
	if in.FreezeAuthority != nil {
		pk := solana.MustPublicKeyFromBase58(*in.FreezeAuthority)
		m.freezeAuthority = &pk
	}
	acc.Data = m.encode()
	return acc, a.RentEpoch, nil
}

// fixtureTx indexes a recorded getTransaction result (json or jsonParsed encoding).
func fixtureTx(res []byte) (*txRecord, error) {
	var t struct {
		BlockTime int64 `json:"blockTime"`
		Slot      uint64
		Meta      struct {
			Err             any `json:"err"`
			LoadedAddresses *struct {
				Readonly []string `json:"readonly"`
				Writable []string `json:"writable"`
			} `json:"loadedAddresses"`
		} `json:"meta"`
		Transaction struct {
			Message struct {
				AccountKeys  []json.RawMessage `json:"accountKeys"`
				Instructions []struct {
					Parsed  json.RawMessage `json:"parsed"`
					Program string          `json:"program"`
				} `json:"instructions"`
			} `json:"message"`
			Signatures []string `json:"signatures"`
		} `json:"transaction"`
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(res, &t); err != nil {
		return nil, err
	}
	if len(t.Transaction.Signatures) == 0 {
		return nil, errors.New("no signatures")
	}
	r := &txRecord{sig: solana.MustSignatureFromBase58(t.Transaction.Signatures[0]), slot: t.Slot, blockTime: t.BlockTime, fixture: res, fixtureErr: t.Meta.Err}
	switch string(t.Version) {
	case "0":
		r.fixtureVersion = "0"
	case `"legacy"`:
		r.fixtureVersion = "legacy"
	}
	for _, k := range t.Transaction.Message.AccountKeys {
		var s string
		if json.Unmarshal(k, &s) != nil {
			var o struct {
				Pubkey string `json:"pubkey"`
			}
			json.Unmarshal(k, &o)
			s = o.Pubkey
		}
		r.keys = append(r.keys, solana.MustPublicKeyFromBase58(s))
	}
	if la := t.Meta.LoadedAddresses; la != nil {
		for _, s := range append(append([]string(nil), la.Writable...), la.Readonly...) {
			r.keys = append(r.keys, solana.MustPublicKeyFromBase58(s))
		}
	}
	var memos []string
	for _, ix := range t.Transaction.Message.Instructions {
		var s string
		if ix.Program == "spl-memo" && json.Unmarshal(ix.Parsed, &s) == nil {
			memos = append(memos, s)
		}
	}
	if m := rpcMemo(memos); m != nil {
		s := m.(string)
		r.fixtureMemo = &s
	}
	return r, nil
}

// Replay delivers a recorded notification fixture (a *notification-*.json file) to every
// matching live subscription: logsNotification to "all" subscribers and to "mentions"
// subscribers of any program invoked in its logs; accountNotification to every account
// subscription; signatureNotification to every pending signature subscription (which it ends).
// Only the subscription id is rewritten. It returns how many frames were queued.
func (c *Chain) Replay(fixture string) (n int, err error) {
	defer func() {
		if recover() != nil {
			n, err = 0, errors.New("unknown fixture "+fixture)
		}
	}()
	var f struct {
		Method string `json:"method"`
		Params struct {
			Result json.RawMessage `json:"result"`
		} `json:"params"`
	}
	if err := json.Unmarshal(fixtures.Solana(fixture), &f); err != nil || f.Params.Result == nil {
		return 0, errors.New("not a notification fixture: " + fixture)
	}
	var logs []string
	if f.Method == "logsNotification" {
		var v struct {
			Value struct {
				Logs []string `json:"logs"`
			} `json:"value"`
		}
		json.Unmarshal(f.Params.Result, &v)
		logs = v.Value.Logs
	}
	return c.hub.replay(f.Method, compact(f.Params.Result), logs), nil
}
