// Command wswatch subscribes to channels of the gateway's WebSocket and prints every frame it
// receives, one JSON object per line, until interrupted. It is the README's WebSocket example:
//
//	go run ./tools/devstack/wswatch campaigns prices escrow:<address> campaign:<id>
//
// With no channel it subscribes to "campaigns". -url picks another gateway.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gorilla/websocket"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8000/ws", "the gateway's WebSocket URL")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: wswatch [-url ws://host:port/ws] [channel ...]\nchannels: campaigns, prices, campaign:<id>, escrow:<address>")
		flag.PrintDefaults()
	}
	flag.Parse()
	channels := flag.Args()
	if len(channels) == 0 {
		channels = []string{"campaigns"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := watch(ctx, *url, channels); err != nil {
		fmt.Fprintln(os.Stderr, "wswatch:", err)
		os.Exit(1)
	}
}

func watch(ctx context.Context, url string, channels []string) error {
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("connect %s: %w (is `make run` running?)", url, err)
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		conn.Close()
	}()
	if err := conn.WriteJSON(map[string]any{"type": "subscribe", "channels": channels}); err != nil {
		return err
	}
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Println(string(msg))
	}
}
