package s2s

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// DialbackKey is the dialback key of XEP-0185 §2: the hex HMAC-SHA256 of
// "receiving originating streamID", keyed with the SHA-256 of the secret
// in hexadecimal. The originating server sends it in <db:result/>; as the
// authoritative server it computes it again to answer <db:verify/>, so no
// key is stored.
func DialbackKey(secret, receiving, originating, streamID string) string {
	k := sha256.Sum256([]byte(secret))
	m := hmac.New(sha256.New, []byte(hex.EncodeToString(k[:])))
	m.Write([]byte(receiving + " " + originating + " " + streamID))
	return hex.EncodeToString(m.Sum(nil))
}

// checkDialbackKey compares a key received in <db:verify/> in constant
// time.
func checkDialbackKey(secret, receiving, originating, streamID, key string) bool {
	want := DialbackKey(secret, receiving, originating, streamID)
	return subtle.ConstantTimeCompare([]byte(want), []byte(key)) == 1
}

// ComponentHandshake is the XEP-0114 §3 handshake value: the lower-case
// hex SHA-1 of the stream id followed by the shared secret.
func ComponentHandshake(streamID, secret string) string {
	h := sha1.Sum([]byte(streamID + secret))
	return hex.EncodeToString(h[:])
}
