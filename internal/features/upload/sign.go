package upload

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

const secretBytes = 32

// loadSecret reads the signing secret at path, or creates it (mode 0600)
// the first time.
func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(bytes.TrimSpace(b)) < secretBytes {
			return nil, fmt.Errorf("upload: secret %s is shorter than %d bytes; delete it to have a new one made", path, secretBytes)
		}
		return bytes.TrimSpace(b), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("upload: secret: %w", err)
	}
	raw := make([]byte, secretBytes)
	rand.Read(raw)
	secret := []byte(hex.EncodeToString(raw))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadSecret(path) // made by another process meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("upload: secret: %w", err)
	}
	if _, err := f.Write(secret); err != nil {
		f.Close()
		return nil, fmt.Errorf("upload: write secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("upload: write secret: %w", err)
	}
	return secret, nil
}

// sign is the PUT URL's signature: an HMAC-SHA-256 over what the slot
// binds (id, size, content type, deadline).
func (s *Service) sign(sl Slot) string {
	m := hmac.New(sha256.New, s.secret)
	for _, part := range []string{"put", sl.ID, strconv.FormatInt(sl.Size, 10), sl.ContentType, strconv.FormatInt(sl.PutBefore.UnixMilli(), 10)} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// validSignature reports whether sig is sl's signature.
func (s *Service) validSignature(sl Slot, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(s.sign(sl)))
}
