package soltest_test

import (
	"errors"

	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
)

type jsonrpcError = jsonrpc.RPCError

func asRPCError(err error, out **jsonrpcError) bool { return errors.As(err, out) }
