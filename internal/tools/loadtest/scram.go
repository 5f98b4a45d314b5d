package loadtest

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/parleyim/parley/internal/sasl"
)

// Mechanisms the load tool can authenticate with.
const (
	MechPLAIN       = "PLAIN"
	MechSCRAMSHA1   = "SCRAM-SHA-1"
	MechSCRAMSHA256 = "SCRAM-SHA-256"
)

func scramHash(mech string) (func() hash.Hash, bool) {
	switch mech {
	case MechSCRAMSHA1:
		return sha1.New, true
	case MechSCRAMSHA256:
		return sha256.New, true
	}
	return nil, false
}

// KeyCache remembers SCRAM salted passwords (RFC 5802 §3: Hi(password,
// salt, i)) so that repeated logins of an account cost the tool a few
// HMACs instead of thousands of PBKDF2 rounds. It can be saved to a file
// and loaded by the next run. It is safe for concurrent use.
type KeyCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewKeyCache returns an empty cache.
func NewKeyCache() *KeyCache { return &KeyCache{m: map[string][]byte{}} }

func keyOf(mech, password string, salt []byte, iters int) string {
	return mech + "\x00" + strconv.Itoa(iters) + "\x00" + string(salt) + "\x00" + password
}

// salted returns Hi(password, salt, iters) for mech, computing it once.
func (k *KeyCache) salted(mech, password string, salt []byte, iters int) ([]byte, error) {
	key := keyOf(mech, password, salt, iters)
	if k != nil {
		k.mu.Lock()
		v, ok := k.m[key]
		k.mu.Unlock()
		if ok {
			return v, nil
		}
	}
	nh, ok := scramHash(mech)
	if !ok {
		return nil, fmt.Errorf("scram: unknown mechanism %s", mech)
	}
	v, err := pbkdf2.Key(nh, password, salt, iters, nh().Size())
	if err != nil {
		return nil, fmt.Errorf("scram: salt password: %w", err)
	}
	if k != nil {
		k.mu.Lock()
		k.m[key] = v
		k.mu.Unlock()
	}
	return v, nil
}

// Len returns the number of cached keys.
func (k *KeyCache) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// Save writes the cache to path (mode 0600: the salted passwords are
// credentials of the benchmark accounts).
func (k *KeyCache) Save(path string) error {
	k.mu.Lock()
	enc := make(map[string]string, len(k.m))
	for key, v := range k.m {
		enc[base64.StdEncoding.EncodeToString([]byte(key))] = base64.StdEncoding.EncodeToString(v)
	}
	k.mu.Unlock()
	b, err := json.Marshal(enc)
	if err != nil {
		return fmt.Errorf("key cache: encode: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("key cache: save: %w", err)
	}
	return nil
}

// LoadKeyCache reads a cache saved by Save; a missing file gives an empty
// cache.
func LoadKeyCache(path string) (*KeyCache, error) {
	k := NewKeyCache()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key cache: load: %w", err)
	}
	var enc map[string]string
	if err := json.Unmarshal(b, &enc); err != nil {
		return nil, fmt.Errorf("key cache: decode %s: %w", path, err)
	}
	for ek, ev := range enc {
		key, err1 := base64.StdEncoding.DecodeString(ek)
		v, err2 := base64.StdEncoding.DecodeString(ev)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("key cache: decode %s: bad entry", path)
		}
		k.m[string(key)] = v
	}
	return k, nil
}

// scramClient is the client side of one SCRAM exchange without channel
// binding (gs2 flag "n": the tool measures servers, not channel binding).
type scramClient struct {
	mech, user, password string
	keys                 *KeyCache

	nonce, bare string
	serverSig   []byte
}

func newSCRAMClient(mech, user, password string, keys *KeyCache) (*scramClient, error) {
	if _, ok := scramHash(mech); !ok {
		return nil, fmt.Errorf("scram: unsupported mechanism %q", mech)
	}
	p, err := sasl.PreparePassword(password)
	if err != nil {
		return nil, fmt.Errorf("scram: %w", err)
	}
	var raw [18]byte
	rand.Read(raw[:])
	return &scramClient{mech: mech, user: user, password: p, keys: keys,
		nonce: base64.RawURLEncoding.EncodeToString(raw[:])}, nil
}

const gs2Header = "n,,"

// first returns the client-first-message.
func (c *scramClient) first() []byte {
	c.bare = "n=" + escapeSaslname(c.user) + ",r=" + c.nonce
	return []byte(gs2Header + c.bare)
}

func escapeSaslname(s string) string {
	if !strings.ContainsAny(s, "=,") {
		return s
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// final answers the server-first-message with the client-final-message.
func (c *scramClient) final(serverFirst []byte) ([]byte, error) {
	nonce, salt, iters, err := parseServerFirst(string(serverFirst))
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(nonce, c.nonce) || len(nonce) == len(c.nonce) {
		return nil, errors.New("scram: server nonce does not extend ours")
	}
	salted, err := c.keys.salted(c.mech, c.password, salt, iters)
	if err != nil {
		return nil, err
	}
	nh, _ := scramHash(c.mech)
	clientKey := hmacOf(nh, salted, []byte("Client Key"))
	h := nh()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(gs2Header)) + ",r=" + nonce
	authMsg := []byte(c.bare + "," + string(serverFirst) + "," + withoutProof)
	proof := hmacOf(nh, storedKey, authMsg)
	subtle.XORBytes(proof, proof, clientKey)
	serverKey := hmacOf(nh, salted, []byte("Server Key"))
	c.serverSig = hmacOf(nh, serverKey, authMsg)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks the server-final-message (mutual authentication).
func (c *scramClient) verify(serverFinal []byte) error {
	v, ok := strings.CutPrefix(string(serverFinal), "v=")
	if !ok {
		return fmt.Errorf("scram: unexpected server-final %q", serverFinal)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || !hmac.Equal(sig, c.serverSig) {
		return errors.New("scram: server signature mismatch")
	}
	return nil
}

func parseServerFirst(s string) (nonce string, salt []byte, iters int, err error) {
	for _, attr := range strings.Split(s, ",") {
		switch {
		case strings.HasPrefix(attr, "r="):
			nonce = attr[2:]
		case strings.HasPrefix(attr, "s="):
			salt, err = base64.StdEncoding.DecodeString(attr[2:])
		case strings.HasPrefix(attr, "i="):
			iters, err = strconv.Atoi(attr[2:])
		case strings.HasPrefix(attr, "m="):
			err = errors.New("scram: mandatory extension")
		}
		if err != nil {
			return "", nil, 0, fmt.Errorf("scram: server-first %q: %w", s, err)
		}
	}
	if nonce == "" || len(salt) == 0 || iters < 1 {
		return "", nil, 0, fmt.Errorf("scram: incomplete server-first %q", s)
	}
	return nonce, salt, iters, nil
}

func hmacOf(nh func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(nh, key)
	m.Write(msg)
	return m.Sum(nil)
}
