module github.com/idv-gateway/idv-gateway/bench

go 1.26.0

require (
	github.com/idv-gateway/idv-gateway/clients/go v0.0.0
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261019180522-ce908d29299b // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261019180522-ce908d29299b // indirect
)

// The benchmark drives the gateway through the same generated client its users get.
replace github.com/idv-gateway/idv-gateway/clients/go => ../clients/go
