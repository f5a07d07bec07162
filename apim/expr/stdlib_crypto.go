package expr

// Hashes, HMACs and the Encrypt/Decrypt byte[] extensions.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
)

func hexEncode(b []byte) string { return hex.EncodeToString(b) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

// hashAlg is a HashAlgorithm/HMAC instance.
type hashAlg struct {
	name string
	h    func() hash.Hash
	hmac bool
	key  []byte
	last []byte
}

func (*hashAlg) csType() string { return "HashAlgorithm" }

func (a *hashAlg) sum(b []byte) []byte {
	var h hash.Hash
	if a.hmac {
		h = hmac.New(a.h, a.key)
	} else {
		h = a.h()
	}
	h.Write(b)
	a.last = h.Sum(nil)
	return a.last
}

var hashes = map[string]func() hash.Hash{
	"SHA256": sha256.New, "SHA1": sha1.New, "SHA512": sha512.New, "SHA384": sha512.New384, "MD5": md5.New,
}

func cryptoStatics() {
	for name, h := range hashes {
		name, h := name, h
		s := static(name)
		create := func(*env, []string, []any) (any, error) { return &hashAlg{name: name, h: h}, nil }
		s.m("Create", name, create).new(create)
		s.m("HashData", "byte[]", func(e *env, _ []string, args []any) (any, error) {
			b, err := bytesArg(args, 0)
			if err != nil {
				return nil, err
			}
			return (&hashAlg{h: h}).sum(b), nil
		})
		typ(name, "HashAlgorithm")
		hm := "HMAC" + name
		static(hm).new(func(e *env, _ []string, args []any) (any, error) {
			a := &hashAlg{name: hm, h: h, hmac: true}
			if len(args) == 1 {
				k, err := bytesArg(args, 0)
				if err != nil {
					return nil, err
				}
				a.key = append([]byte(nil), k...)
			} else {
				a.key = make([]byte, 64)
			}
			return a, nil
		})
		static(hm).m("HashData", "byte[]", func(e *env, _ []string, args []any) (any, error) {
			k, err := bytesArg(args, 0)
			if err != nil {
				return nil, err
			}
			b, err := bytesArg(args, 1)
			if err != nil {
				return nil, err
			}
			return (&hashAlg{h: h, hmac: true, key: k}).sum(b), nil
		})
		typ(hm, "HashAlgorithm")
	}
	alias("SHA256", "SHA256Managed", "SHA256CryptoServiceProvider")
	alias("SHA1", "SHA1Managed", "SHA1CryptoServiceProvider")
	alias("SHA512", "SHA512Managed")
	alias("SHA384", "SHA384Managed")
	alias("MD5", "MD5CryptoServiceProvider")
	ha := typ("HashAlgorithm")
	ha.method("ComputeHash", "byte[]", func(e *env, v any, _ []string, args []any) (any, error) {
		b, err := bytesRangeArg(args, "offset")
		if err != nil {
			return nil, err
		}
		return v.(*hashAlg).sum(b), nil
	})
	ha.prop("Key", "byte[]", get(func(a *hashAlg) any { return append([]byte(nil), a.key...) }))
	ha.prop("Hash", "byte[]", get(func(a *hashAlg) any { return a.last }))
	ha.setProps["Key"] = func(e *env, v, val any) error {
		k, err := bytesArg([]any{val}, 0)
		if err != nil {
			return err
		}
		v.(*hashAlg).key = append([]byte(nil), k...)
		return nil
	}
	ha.method("Dispose", "object", m0(func(any) (any, error) { return nil, nil }))
	ha.method("Initialize", "object", m0(func(any) (any, error) { return nil, nil }))
}

// cryptMethod implements byte[].Encrypt/Decrypt(algorithm name, key, iv)
// for Aes/Rijndael (CBC, PKCS7) and TripleDES.
func cryptMethod(encrypt bool) func(*env, any, []string, []any) (any, error) {
	return func(e *env, v any, _ []string, args []any) (any, error) {
		data := v.([]byte)
		alg, err := strArg(args, 0)
		if err != nil {
			return nil, throwf("NotSupportedException", "Encrypt/Decrypt with a SymmetricAlgorithm object is not supported; pass the algorithm name.")
		}
		key, err := bytesArg(args, 1)
		if err != nil {
			return nil, err
		}
		iv, err := bytesArg(args, 2)
		if err != nil {
			return nil, err
		}
		var block cipher.Block
		switch strings.ToLower(alg) {
		case "aes", "rijndael", "aesmanaged", "aescryptoserviceprovider", "system.security.cryptography.aes":
			block, err = aes.NewCipher(key)
		case "tripledes", "3des":
			block, err = des.NewTripleDESCipher(key)
		default:
			return nil, throwf("NotSupportedException", "Symmetric algorithm '%s' is not supported.", alg)
		}
		if err != nil {
			return nil, throwf("CryptographicException", "Specified key is not a valid size for this algorithm.")
		}
		bs := block.BlockSize()
		if len(iv) != bs {
			return nil, throwf("CryptographicException", "Specified initialization vector (IV) does not match the block size for this algorithm.")
		}
		if encrypt {
			p := bs - len(data)%bs
			buf := append(append([]byte(nil), data...), bytes.Repeat([]byte{byte(p)}, p)...)
			cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
			return buf, nil
		}
		if len(data) == 0 || len(data)%bs != 0 {
			return nil, throwf("CryptographicException", "The input data is not a complete block.")
		}
		buf := append([]byte(nil), data...)
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, buf)
		p := int(buf[len(buf)-1])
		if p == 0 || p > bs || p > len(buf) || !bytes.Equal(buf[len(buf)-p:], bytes.Repeat([]byte{byte(p)}, p)) {
			return nil, throwf("CryptographicException", "Padding is invalid and cannot be removed.")
		}
		return buf[:len(buf)-p], nil
	}
}
