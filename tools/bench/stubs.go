package main

import "context"

func benchFanout(ctx context.Context, o options) (*table, error) { return nil, nil }

const fanoutClientsCmd = "fanout-clients"

func fanoutClients(args []string) error { return nil }
