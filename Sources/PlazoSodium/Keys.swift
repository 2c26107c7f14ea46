import CSodium

/// An X25519 public key for `crypto_box_seal` (32 bytes).
public struct BoxPublicKey: Hashable, Sendable {
    /// Length in bytes (`crypto_box_PUBLICKEYBYTES`).
    public static let byteCount = 32
    /// The raw key.
    public let bytes: [UInt8]

    /// Wraps raw bytes, checking the length.
    public init(bytes: [UInt8]) throws(SodiumError) {
        try checkLength("box public key", bytes.count, Self.byteCount)
        self.bytes = bytes
    }
}

/// An X25519 key pair: the service's key for opening sealed batch payloads.
public struct BoxKeyPair: Sendable {
    /// The public half, given to agencies.
    public let publicKey: BoxPublicKey
    /// The secret half (32 bytes), zeroed when released.
    public let secretKey: SecretBytes

    /// Builds a pair from its halves, checking lengths. (The halves are not checked against each
    /// other; ``SealedBox/open(_:with:)`` simply fails if they do not match.)
    public init(publicKey: BoxPublicKey, secretKey: SecretBytes) throws(SodiumError) {
        try checkLength("box secret key", secretKey.count, 32)
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh key pair from the CSPRNG (`crypto_box_keypair`).
    public static func generate() throws(SodiumError) -> BoxKeyPair {
        try Sodium.ensureInitialised()
        var pk = [UInt8](repeating: 0, count: 32)
        let sk = SecretBytes(count: 32) { (buffer: UnsafeMutableRawBufferPointer) in
            _ = crypto_box_keypair(&pk, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return try BoxKeyPair(publicKey: BoxPublicKey(bytes: pk), secretKey: sk)
    }

    /// The key pair derived from a 32-byte seed (`crypto_box_seed_keypair`). Used for test vectors.
    public static func derive(seed: [UInt8]) throws(SodiumError) -> BoxKeyPair {
        try Sodium.ensureInitialised()
        try checkLength("box seed", seed.count, 32)
        var pk = [UInt8](repeating: 0, count: 32)
        let sk = SecretBytes(count: 32) { (buffer: UnsafeMutableRawBufferPointer) in
            _ = crypto_box_seed_keypair(&pk, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), seed)
        }
        return try BoxKeyPair(publicKey: BoxPublicKey(bytes: pk), secretKey: sk)
    }

    /// Recomputes the public key from the secret key (`crypto_scalarmult_base`).
    public static func publicKey(for secretKey: SecretBytes) throws(SodiumError) -> BoxPublicKey {
        try Sodium.ensureInitialised()
        try checkLength("box secret key", secretKey.count, 32)
        var pk = [UInt8](repeating: 0, count: 32)
        let rc = secretKey.withUnsafeBytes { sk in
            crypto_scalarmult_base(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        if rc != 0 { throw .primitiveFailed("crypto_scalarmult_base") }
        return try BoxPublicKey(bytes: pk)
    }
}

/// An Ed25519 public key (32 bytes).
public struct SigningPublicKey: Hashable, Sendable {
    /// Length in bytes (`crypto_sign_PUBLICKEYBYTES`).
    public static let byteCount = 32
    /// The raw key.
    public let bytes: [UInt8]

    /// Wraps raw bytes, checking the length.
    public init(bytes: [UInt8]) throws(SodiumError) {
        try checkLength("signing public key", bytes.count, Self.byteCount)
        self.bytes = bytes
    }
}

/// An Ed25519 key pair. The secret key is libsodium's 64-byte form (seed followed by public key).
public struct SigningKeyPair: Sendable {
    /// The public half.
    public let publicKey: SigningPublicKey
    /// The 64-byte secret key, zeroed when released.
    public let secretKey: SecretBytes

    /// Builds a pair from libsodium's 64-byte secret key, recovering the public key from it.
    public init(secretKey: SecretBytes) throws(SodiumError) {
        try Sodium.ensureInitialised()
        try checkLength("signing secret key", secretKey.count, 64)
        var pk = [UInt8](repeating: 0, count: 32)
        let rc = secretKey.withUnsafeBytes { sk in
            crypto_sign_ed25519_sk_to_pk(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        if rc != 0 { throw .primitiveFailed("crypto_sign_ed25519_sk_to_pk") }
        self.publicKey = try SigningPublicKey(bytes: pk)
        self.secretKey = secretKey
    }

    /// A fresh key pair from the CSPRNG (`crypto_sign_keypair`).
    public static func generate() throws(SodiumError) -> SigningKeyPair {
        try Sodium.ensureInitialised()
        var pk = [UInt8](repeating: 0, count: 32)
        let sk = SecretBytes(count: 64) { (buffer: UnsafeMutableRawBufferPointer) in
            _ = crypto_sign_keypair(&pk, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return try SigningKeyPair(secretKey: sk)
    }

    /// The key pair derived from a 32-byte seed (`crypto_sign_seed_keypair`). Used for test vectors.
    public static func derive(seed: [UInt8]) throws(SodiumError) -> SigningKeyPair {
        try Sodium.ensureInitialised()
        try checkLength("signing seed", seed.count, 32)
        var pk = [UInt8](repeating: 0, count: 32)
        let sk = SecretBytes(count: 64) { (buffer: UnsafeMutableRawBufferPointer) in
            _ = crypto_sign_seed_keypair(&pk, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), seed)
        }
        return try SigningKeyPair(secretKey: sk)
    }
}
