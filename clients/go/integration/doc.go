// Package integration tests the Go client against a running gateway in sandbox mode.
//
// The tests skip unless IDV_GATEWAY_ADDR is set; scripts/test-clients starts a gateway
// and a TCP proxy and sets:
//
//	IDV_GATEWAY_ADDR           host:port of the gateway's gRPC listener
//	IDV_GATEWAY_HTTP           http://host:port of its HTTP listener (sandbox pages)
//	IDV_GATEWAY_PROXY_ADDR     host:port of scripts/tcp_proxy.py in front of the gRPC listener
//	IDV_GATEWAY_PROXY_CONTROL  http://host:port of the proxy's control API (POST /drop)
//
// A call the gateway does not provide (UNIMPLEMENTED, a sandbox vendor not configured, a
// sandbox page that answers 404) fails the test that needs it.
package integration
