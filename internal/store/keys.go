package store

import (
	"encoding/pem"
	"errors"
)

func encodeKey(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func decodeKey(text string) ([]byte, error) {
	b, _ := pem.Decode([]byte(text))
	if b == nil {
		return nil, errors.New("stored signing key is not PEM")
	}
	return b.Bytes, nil
}
