package main

import "context"

func benchDetect(ctx context.Context, o options) (*table, error)   { return nil, nil }
func benchREST(ctx context.Context, o options) (*table, error)     { return nil, nil }
func benchFanout(ctx context.Context, o options) (*table, error)   { return nil, nil }
func benchRPC(ctx context.Context, o options) (*table, error)      { return nil, nil }
func benchBackfill(ctx context.Context, o options) (*table, error) { return nil, nil }

const fanoutClientsCmd = "fanout-clients"

func fanoutClients(args []string) error { return nil }
