import CSodium

/// Anonymous public-key encryption (`crypto_box_seal`): X25519 + XSalsa20-Poly1305 with an
/// ephemeral sender key. Only the holder of the recipient's secret key can open the box, and
/// the box reveals nothing about the sender.
public enum SealedBox {
    /// Bytes added to the message (`crypto_box_SEALBYTES`: ephemeral public key + MAC).
    public static let overhead = 48

    /// Seals `message` to `recipient`.
    public static func seal(_ message: [UInt8], to recipient: BoxPublicKey) throws(SodiumError) -> [UInt8] {
        try Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let rc = crypto_box_seal(&out, message, UInt64(message.count), recipient.bytes)
        if rc != 0 { throw .sealFailed }
        return out
    }

    /// Opens a sealed box with the recipient's key pair.
    public static func open(_ ciphertext: [UInt8], with keyPair: BoxKeyPair) throws(SodiumError) -> [UInt8] {
        if ciphertext.count < overhead { throw .sealedBoxOpenFailed }
        var out = [UInt8](repeating: 0, count: ciphertext.count - overhead)
        try withBytes(ciphertext) { (c: UnsafeRawBufferPointer) throws(SodiumError) in
            try withMutableBytes(&out) { (m: UnsafeMutableRawBufferPointer) throws(SodiumError) in
                try open(c, into: m, with: keyPair)
            }
        }
        return out
    }

    /// Opens a sealed box into a caller-provided buffer of exactly `ciphertext.count - overhead`
    /// bytes: the allocation-free form used on the ingest hot path.
    public static func open(
        _ ciphertext: UnsafeRawBufferPointer,
        into plaintext: UnsafeMutableRawBufferPointer,
        with keyPair: BoxKeyPair
    ) throws(SodiumError) {
        try Sodium.ensureInitialised()
        if ciphertext.count < overhead { throw .sealedBoxOpenFailed }
        try checkLength("sealed box plaintext buffer", plaintext.count, ciphertext.count - overhead)
        var empty: UInt8 = 0  // libsodium needs a valid pointer even for an empty message
        let rc = keyPair.secretKey.withUnsafeBytes { sk in
            crypto_box_seal_open(
                plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafeMutablePointer(to: &empty) { $0 },
                ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self),
                UInt64(ciphertext.count),
                keyPair.publicKey.bytes,
                sk.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
        if rc != 0 { throw .sealedBoxOpenFailed }
    }
}

/// Ed25519 detached signatures (`crypto_sign_detached` / `crypto_sign_verify_detached`).
public enum Signature {
    /// Length of a signature in bytes (`crypto_sign_BYTES`).
    public static let byteCount = 64

    /// Signs `message` with `keyPair`'s secret key.
    public static func sign(_ message: UnsafeRawBufferPointer, with keyPair: SigningKeyPair) throws(SodiumError) -> [UInt8] {
        try Sodium.ensureInitialised()
        var signature = [UInt8](repeating: 0, count: byteCount)
        let rc = keyPair.secretKey.withUnsafeBytes { sk in
            crypto_sign_detached(
                &signature, nil,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                sk.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
        if rc != 0 { throw .primitiveFailed("crypto_sign_detached") }
        return signature
    }

    /// Signs `message` with `keyPair`'s secret key.
    public static func sign(_ message: [UInt8], with keyPair: SigningKeyPair) throws(SodiumError) -> [UInt8] {
        try withBytes(message) { (m: UnsafeRawBufferPointer) throws(SodiumError) in try sign(m, with: keyPair) }
    }

    /// Verifies a detached signature; throws ``SodiumError/signatureInvalid`` if it does not hold.
    public static func verify(
        _ signature: UnsafeRawBufferPointer,
        of message: UnsafeRawBufferPointer,
        by publicKey: SigningPublicKey
    ) throws(SodiumError) {
        try Sodium.ensureInitialised()
        try checkLength("signature", signature.count, byteCount)
        let rc = crypto_sign_verify_detached(
            signature.baseAddress!.assumingMemoryBound(to: UInt8.self),
            message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
            publicKey.bytes
        )
        if rc != 0 { throw .signatureInvalid }
    }

    /// Verifies a detached signature over a byte array.
    public static func verify(_ signature: [UInt8], of message: [UInt8], by publicKey: SigningPublicKey) throws(SodiumError) {
        try withBytes(signature) { (s: UnsafeRawBufferPointer) throws(SodiumError) in
            try withBytes(message) { (m: UnsafeRawBufferPointer) throws(SodiumError) in
                try verify(s, of: m, by: publicKey)
            }
        }
    }
}

/// BLAKE2b (`crypto_generichash`), keyed or not.
public enum GenericHash {
    /// Output lengths libsodium accepts (`crypto_generichash_BYTES_MIN...BYTES_MAX`).
    public static let outputLengths: ClosedRange<Int> = 16...64
    /// Key lengths libsodium accepts (`crypto_generichash_KEYBYTES_MIN...KEYBYTES_MAX`).
    public static let keyLengths: ClosedRange<Int> = 16...64

    /// Unkeyed BLAKE2b of `message` with an output of `outputLength` bytes.
    public static func hash(_ message: UnsafeRawBufferPointer, outputLength: Int = 32) throws(SodiumError) -> [UInt8] {
        try Sodium.ensureInitialised()
        try checkOutput(outputLength)
        var out = [UInt8](repeating: 0, count: outputLength)
        let rc = crypto_generichash(
            &out, outputLength,
            message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
            nil, 0
        )
        if rc != 0 { throw .primitiveFailed("crypto_generichash") }
        return out
    }

    /// Unkeyed BLAKE2b of a byte array.
    public static func hash(_ message: [UInt8], outputLength: Int = 32) throws(SodiumError) -> [UInt8] {
        try withBytes(message) { (m: UnsafeRawBufferPointer) throws(SodiumError) in try hash(m, outputLength: outputLength) }
    }

    /// Keyed BLAKE2b (a PRF / MAC) of `message` under a secret `key`.
    public static func keyedHash(_ message: [UInt8], key: SecretBytes, outputLength: Int) throws(SodiumError) -> [UInt8] {
        try Sodium.ensureInitialised()
        try checkOutput(outputLength)
        if !keyLengths.contains(key.count) {
            throw .lengthOutOfRange(what: "generichash key", range: keyLengths, actual: key.count)
        }
        var out = [UInt8](repeating: 0, count: outputLength)
        let rc = key.withUnsafeBytes { k in
            crypto_generichash(
                &out, outputLength, message, UInt64(message.count),
                k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count
            )
        }
        if rc != 0 { throw .primitiveFailed("crypto_generichash") }
        return out
    }

    /// A secret key derived from `secret` for one purpose: keyed BLAKE2b of `context` (which names
    /// the purpose, and may hold a public salt) under `secret`, `outputLength` bytes, returned in
    /// secret memory. Different contexts give independent keys.
    public static func deriveKey(from secret: SecretBytes, context: [UInt8], outputLength: Int = 32) throws(SodiumError) -> SecretBytes {
        try Sodium.ensureInitialised()
        try checkOutput(outputLength)
        if !keyLengths.contains(secret.count) {
            throw .lengthOutOfRange(what: "generichash key", range: keyLengths, actual: secret.count)
        }
        var rc: Int32 = 0
        let derived = SecretBytes(count: outputLength) { (out: UnsafeMutableRawBufferPointer) in
            rc = secret.withUnsafeBytes { k in
                crypto_generichash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), outputLength, context, UInt64(context.count),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
            }
        }
        if rc != 0 { throw .primitiveFailed("crypto_generichash") }
        return derived
    }

    private static func checkOutput(_ n: Int) throws(SodiumError) {
        if !outputLengths.contains(n) {
            throw .lengthOutOfRange(what: "generichash output", range: outputLengths, actual: n)
        }
    }
}

/// The libsodium CSPRNG (`randombytes_buf`, `randombytes_uniform`). Production keys, batch ids,
/// tokens and differential-privacy noise all come from here.
public enum SecureRandom {
    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(SodiumError) {
        try Sodium.ensureInitialised()
        if let base = buffer.baseAddress, buffer.count > 0 { randombytes_buf(base, buffer.count) }
    }

    /// `count` random bytes.
    public static func bytes(_ count: Int) throws(SodiumError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try withMutableBytes(&out) { (b: UnsafeMutableRawBufferPointer) throws(SodiumError) in try fill(b) }
        return out
    }

    /// A uniform integer in `0..<upperBound` without modulo bias (`randombytes_uniform`).
    /// `upperBound` must be at least 1.
    public static func uniform(below upperBound: UInt32) throws(SodiumError) -> UInt32 {
        try Sodium.ensureInitialised()
        if upperBound == 0 { throw .lengthOutOfRange(what: "uniform upper bound", range: 1...Int(UInt32.max), actual: 0) }
        return randombytes_uniform(upperBound)
    }

    /// A uniform 64-bit integer.
    public static func uint64() throws(SodiumError) -> UInt64 {
        try Sodium.ensureInitialised()
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { randombytes_buf($0.baseAddress!, 8) }
        return v
    }
}
