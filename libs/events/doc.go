// Package events holds every message that crosses a service boundary: the JetStream events of the
// CAMPAIGNS and CONTRIBUTIONS streams, the entries of the PRICES and INDEXER key-value buckets, and
// the request/reply types of the campaign, pricer and indexer micro services. Producer and consumer
// compile against the same struct, so a field cannot drift between them.
//
// Guarantees every type here keeps:
//   - Payloads are JSON. Money is an exact integer in base units (lamports for SOL, raw units for
//     SPL tokens) encoded as a JSON string, so no consumer loses precision past 2^53.
//   - Every event carries Version; a consumer must ignore fields it does not know and must not
//     process a Version greater than it understands (it terminates such a message and counts it).
//   - Dedup ids (the Nats-Msg-Id header) are built only from immutable facts of what happened, so a
//     retry or a second producer of the same fact publishes the same id and JetStream stores it once.
//
// docs/events.md documents these contracts for outside consumers.
package events

// Version is the payload version written by this code. Bump it only for incompatible changes.
const Version = 1
