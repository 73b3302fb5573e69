// Command bench compares an SDK implementation with a baseline written
// against the raw transport, in one process, on the same broker or server:
//
//	go run ./internal/bench [-runs N] <scenario>
//	go run ./internal/bench            # lists the scenarios
//
// The runner calls the scenario's Setup once, then alternates the two sides
// (SDK, baseline, SDK, baseline, ...) N times each so that drift in the
// machine's load hits both alike, prints every run's rate, and ends with
// exactly one line
//
//	RATIO <scenario> <sdk_rate/baseline_rate>
//
// with two decimals, computed from the median rate of each side (the median
// shrugs off one run disturbed by a neighbour on a shared machine). Above 1
// the SDK is faster.
//
// # Adding a scenario
//
// A scenario is one file in this directory (package main) that registers
// itself from init:
//
//	func init() {
//		Register(Scenario[*myEnv]{
//			Name:        "banqup-consume",
//			Description: "banqup.Consumer vs a raw amqp091 consumer, 20,000 messages",
//			Setup:       setupMyEnv,   // e.g. brokertest.StartRabbitMQ
//			SDK:         runSDK,
//			Baseline:    runBaseline,
//		})
//	}
//
// Setup builds what both sides share (a broker from brokertest.StartRabbitMQ
// or StartMosquitto, a server, fixtures) and returns its cleanup. Each side
// returns a Result with the number of units it processed; the runner times
// the call unless the side reports its own Duration (to leave out its
// warm-up). Result.Notes adds lines to the report, and each run's peak RSS
// is printed where the platform reports it.
package main
