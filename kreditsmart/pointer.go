package kreditsmart

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// parsePointer splits an RFC 6901 JSON pointer into unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" || p[0] != '/' {
		return nil, fmt.Errorf("JSON pointer %q must start with /", clip(p))
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("JSON pointer %q has a bad ~ escape", clip(p))
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// lookupString resolves pointer in doc and returns the string found there.
// The error explains which token did not match, so an integrator can fix
// the pointer after looking at FetchShadow's output.
func lookupString(doc []byte, pointer string) (string, error) {
	toks, err := parsePointer(pointer)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return "", fmt.Errorf("shadow document is not JSON: %v", err)
	}
	path := ""
	for _, t := range toks {
		path += "/" + t
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[t]
			if !ok {
				return "", fmt.Errorf("JSON pointer %s: no member %q at %s", pointer, t, path)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(node) {
				return "", fmt.Errorf("JSON pointer %s: no index %q at %s", pointer, t, path)
			}
			v = node[i]
		default:
			return "", fmt.Errorf("JSON pointer %s: %s is not an object or array", pointer, strings.TrimSuffix(path, "/"+t))
		}
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("JSON pointer %s: value is %T, not a string", pointer, v)
	}
	return s, nil
}
