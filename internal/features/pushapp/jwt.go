package pushapp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// b64 is base64url without padding (RFC 7515 §2).
var b64 = base64.RawURLEncoding

// signingInput is the JWS signing input of a JWT: the encoded header and
// claims joined with a dot (RFC 7515 §5.1).
func signingInput(header, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("jwt header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwt claims: %w", err)
	}
	return b64.EncodeToString(h) + "." + b64.EncodeToString(c), nil
}

// SignES256 returns a JWT signed with ECDSA P-256 and SHA-256 (RFC 7518
// §3.4: the signature is R and S, 32 bytes each, not ASN.1), as APNs
// wants its provider tokens.
func SignES256(key *ecdsa.PrivateKey, header, claims any) (string, error) {
	if key.Curve != elliptic.P256() {
		return "", errors.New("jwt: ES256 needs a P-256 key")
	}
	in, err := signingInput(header, claims)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return "", fmt.Errorf("jwt: sign: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + b64.EncodeToString(sig), nil
}

// SignRS256 returns a JWT signed with RSASSA-PKCS1-v1_5 and SHA-256 (RFC
// 7518 §3.3), as Google's OAuth2 JWT bearer grant wants its assertion.
func SignRS256(key *rsa.PrivateKey, header, claims any) (string, error) {
	in, err := signingInput(header, claims)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("jwt: sign: %w", err)
	}
	return in + "." + b64.EncodeToString(sig), nil
}

// VerifyES256 checks tok's signature with pub and returns its decoded
// header and claims (for tests and diagnostics).
func VerifyES256(tok string, pub *ecdsa.PublicKey) (header, claims map[string]any, err error) {
	in, sig, err := splitJWT(tok)
	if err != nil {
		return nil, nil, err
	}
	if len(sig) != 64 {
		return nil, nil, fmt.Errorf("jwt: ES256 signature of %d bytes", len(sig))
	}
	sum := sha256.Sum256([]byte(in))
	if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, nil, errors.New("jwt: bad ES256 signature")
	}
	return decodeJWT(in)
}

// VerifyRS256 is VerifyES256 for RS256.
func VerifyRS256(tok string, pub *rsa.PublicKey) (header, claims map[string]any, err error) {
	in, sig, err := splitJWT(tok)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256([]byte(in))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, nil, fmt.Errorf("jwt: bad RS256 signature: %w", err)
	}
	return decodeJWT(in)
}

func splitJWT(tok string) (in string, sig []byte, err error) {
	dot := strings.LastIndexByte(tok, '.')
	if dot < 0 {
		return "", nil, errors.New("jwt: not three parts")
	}
	sig, err = b64.DecodeString(tok[dot+1:])
	if err != nil {
		return "", nil, fmt.Errorf("jwt: signature: %w", err)
	}
	return tok[:dot], sig, nil
}

func decodeJWT(in string) (header, claims map[string]any, err error) {
	parts := strings.Split(in, ".")
	if len(parts) != 2 {
		return nil, nil, errors.New("jwt: not three parts")
	}
	var out [2]map[string]any
	for i, p := range parts {
		raw, err := b64.DecodeString(p)
		if err != nil {
			return nil, nil, fmt.Errorf("jwt: part %d: %w", i, err)
		}
		if err := json.Unmarshal(raw, &out[i]); err != nil || out[i] == nil {
			return nil, nil, fmt.Errorf("jwt: part %d is not a JSON object: %v", i, err)
		}
	}
	return out[0], out[1], nil
}

// parsePKCS8 reads the first PEM block of data as a PKCS#8 private key
// (an APNs .p8 file, a service account's private_key).
func parsePKCS8(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("PKCS#8 key: %w", err)
	}
	return k, nil
}

// ParseAPNsKey reads an APNs .p8 signing key (PKCS#8, P-256).
func ParseAPNsKey(data []byte) (*ecdsa.PrivateKey, error) {
	k, err := parsePKCS8(data)
	if err != nil {
		return nil, fmt.Errorf("apns key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("apns key: not an ECDSA P-256 key")
	}
	return ec, nil
}
