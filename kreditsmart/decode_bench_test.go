package kreditsmart

import "testing"

func BenchmarkDecode(b *testing.B) {
	payload := []byte(`{"vorgangsnummer":"VN12345","kundenbetreuerPartnerbaum":"ECHTGESCHAEFT/ABC12/DEF34","letztesAenderungsDatum":"2026-11-23T09:46:00.123456789Z","quellsystem":"KREDITSMART"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(payload); err != nil {
			b.Fatal(err)
		}
	}
}
