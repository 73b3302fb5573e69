package main

// sandboxSources lists the platforms the sandbox runs, in summary order.
func sandboxSources() []sandboxSource {
	return []sandboxSource{kreditsmartSource(), banqupSource(), comnormSource(), dsgoSource()}
}
