package dsgo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// fields is a decoded JSON object whose members are taken one by one, so
// that every spelling variant of a field can be tried and what is left over
// becomes Extra.
type fields map[string]json.RawMessage

func decodeObject(what string, b []byte) (fields, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w: %s is not a JSON object", ErrDecode, what)
	}
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDecode, what, err)
	}
	return f, nil
}

// take decodes the first present, non-null member among keys into dst and
// removes all of keys from f. It reports whether one was present.
func (f fields) take(what string, dst any, keys ...string) (bool, error) {
	// The first present value wins, except that null, and a blank string
	// when another spelling has a value, count as absent.
	var raw, blank json.RawMessage
	var key, blankKey string
	for _, k := range keys {
		if v, ok := f[k]; ok {
			switch {
			case isNull(v):
			case isBlankString(v):
				if blank == nil {
					blank, blankKey = v, k
				}
			case raw == nil:
				raw, key = v, k
			}
			delete(f, k)
		}
	}
	if raw == nil {
		raw, key = blank, blankKey
	}
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return true, fmt.Errorf("%w: %s.%s: %v", ErrDecode, what, key, err)
	}
	return true, nil
}

// takeString reads a string member that some senders write as a number
// (ids, counts): the first alias with a non-blank value wins; blank values
// become "". Every present alias must be a string, number or null.
func (f fields) takeString(what string, dst *string, keys ...string) error {
	var out string
	for _, k := range keys {
		raw, ok := f[k]
		if !ok {
			continue
		}
		delete(f, k)
		var v string
		switch {
		case isNull(raw):
			continue
		case raw[0] == '"':
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("%w: %s.%s: %v", ErrDecode, what, k, err)
			}
		case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
			v = string(raw)
		default:
			return fmt.Errorf("%w: %s.%s must be a string", ErrDecode, what, k)
		}
		if out == "" && strings.TrimSpace(v) != "" {
			out = v
		}
	}
	*dst = out
	return nil
}

// takeTime reads a timestamp under any alias: the first non-zero one wins.
// Every present alias must decode.
func (f fields) takeTime(what string, dst *UnixTime, keys ...string) error {
	var out UnixTime
	for _, k := range keys {
		raw, ok := f[k]
		if !ok {
			continue
		}
		delete(f, k)
		var t UnixTime
		if err := t.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("%w: %s.%s: %v", ErrDecode, what, k, err)
		}
		if out.IsZero() {
			out = t
		}
	}
	*dst = out
	return nil
}

func (f fields) extra() map[string]json.RawMessage {
	if len(f) == 0 {
		return nil
	}
	return map[string]json.RawMessage(f)
}

// objWriter writes a JSON object with members in a fixed order, which keeps
// output stable and readable in the order the spec lists fields.
type objWriter struct {
	buf   bytes.Buffer
	keys  map[string]bool
	err   error
	first bool
}

func newObjWriter() *objWriter {
	w := &objWriter{keys: map[string]bool{}, first: true}
	w.buf.WriteByte('{')
	return w
}

func (w *objWriter) raw(key string, v json.RawMessage) {
	if w.err != nil {
		return
	}
	if !w.first {
		w.buf.WriteByte(',')
	}
	w.first = false
	k, _ := json.Marshal(key)
	w.buf.Write(k)
	w.buf.WriteByte(':')
	w.buf.Write(v)
	w.keys[key] = true
}

func (w *objWriter) val(key string, v any) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.err = fmt.Errorf("dsgo: encode %s: %w", key, err)
		return
	}
	w.raw(key, b)
}

// str writes key only when v is not empty.
func (w *objWriter) str(key, v string) {
	if v != "" {
		w.val(key, v)
	}
}

// extras writes the preserved unknown members, sorted, skipping any the
// object already wrote.
func (w *objWriter) extras(extra map[string]json.RawMessage) {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !w.keys[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := extra[k]
		if !json.Valid(v) {
			w.err = fmt.Errorf("dsgo: encode %s: invalid JSON in Extra", k)
			return
		}
		w.raw(k, v)
	}
}

func (w *objWriter) bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	w.buf.WriteByte('}')
	return w.buf.Bytes(), nil
}

func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// isBlankString reports whether raw is a JSON string of only spaces (no
// escapes).
func isBlankString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	return len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
}
