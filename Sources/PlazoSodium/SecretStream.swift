import CSodium

/// Authenticated encryption of a sequence of chunks under one secret key
/// (`crypto_secretstream_xchacha20poly1305`): each chunk is encrypted and authenticated, the
/// chunks cannot be reordered, dropped or repeated without the next pull failing, and the last
/// chunk carries a final tag, so a truncated stream is recognised too.
///
/// For files the service writes for itself (the case-index snapshot): the key is derived from a
/// service secret (``GenericHash/deriveKey(from:context:)``), never stored.
public enum SecretStream {
    /// Bytes of the stream header written before the first chunk (`..._HEADERBYTES`).
    public static let headerByteCount = Int(crypto_secretstream_xchacha20poly1305_HEADERBYTES)
    /// Bytes each chunk grows by when encrypted (`..._ABYTES`: tag and MAC).
    public static let overhead = Int(crypto_secretstream_xchacha20poly1305_ABYTES)
    /// Length of the key (`..._KEYBYTES`).
    public static let keyByteCount = Int(crypto_secretstream_xchacha20poly1305_KEYBYTES)

    /// The encrypting end. Not thread-safe; its state (which holds key material) is zeroed when
    /// it is released.
    public final class Encryptor {
        private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
        /// The stream header: store it before the first chunk; ``Decryptor`` needs it.
        public let header: [UInt8]
        private var finished = false

        /// Starts a stream under `key` (``keyByteCount`` bytes) with a fresh random nonce.
        public init(key: SecretBytes) throws(SodiumError) {
            try Sodium.ensureInitialised()
            try checkLength("secretstream key", key.count, SecretStream.keyByteCount)
            let state = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
            var header = [UInt8](repeating: 0, count: SecretStream.headerByteCount)
            let rc = key.withUnsafeBytes { k in
                crypto_secretstream_xchacha20poly1305_init_push(state, &header, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            if rc != 0 {
                sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
                state.deallocate()
                throw .primitiveFailed("crypto_secretstream_xchacha20poly1305_init_push")
            }
            self.state = state
            self.header = header
        }

        deinit {
            sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
            state.deallocate()
        }

        /// Encrypts one chunk into `out`, which must hold exactly `plaintext.count + overhead`
        /// bytes. `additionalData` is authenticated but not encrypted (the decryptor must give the
        /// same bytes); `final` marks the last chunk, after which nothing more may be pushed.
        public func push(
            _ plaintext: UnsafeRawBufferPointer, additionalData: [UInt8] = [], final: Bool, into out: UnsafeMutableRawBufferPointer
        ) throws(SodiumError) {
            if finished { throw .primitiveFailed("crypto_secretstream_xchacha20poly1305_push after the final chunk") }
            try checkLength("secretstream chunk buffer", out.count, plaintext.count + SecretStream.overhead)
            let tag = UInt8(final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
            var empty: UInt8 = 0
            let rc = additionalData.withUnsafeBufferPointer { ad in
                crypto_secretstream_xchacha20poly1305_push(
                    state, out.baseAddress!.assumingMemoryBound(to: UInt8.self), nil,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafePointer(to: &empty) { $0 },
                    UInt64(plaintext.count), ad.baseAddress, UInt64(ad.count), tag)
            }
            if rc != 0 { throw .primitiveFailed("crypto_secretstream_xchacha20poly1305_push") }
            finished = final
        }
    }

    /// The decrypting end. Not thread-safe; its state is zeroed when it is released.
    public final class Decryptor {
        private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
        /// Whether the final chunk has been pulled.
        public private(set) var finished = false

        /// Starts reading a stream written under `key` that began with `header`.
        ///
        /// - Throws: ``SodiumError/invalidLength(what:expected:actual:)`` for a wrong-length key or
        ///   header, ``SodiumError/streamInvalid`` for an invalid header.
        public init(key: SecretBytes, header: [UInt8]) throws(SodiumError) {
            try Sodium.ensureInitialised()
            try checkLength("secretstream key", key.count, SecretStream.keyByteCount)
            try checkLength("secretstream header", header.count, SecretStream.headerByteCount)
            let state = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
            let rc = key.withUnsafeBytes { k in
                crypto_secretstream_xchacha20poly1305_init_pull(state, header, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            if rc != 0 {
                sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
                state.deallocate()
                throw .streamInvalid
            }
            self.state = state
        }

        deinit {
            sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
            state.deallocate()
        }

        /// Decrypts and authenticates one chunk into `out`, which must hold exactly
        /// `ciphertext.count - overhead` bytes.
        ///
        /// - Returns: whether this was the stream's final chunk.
        /// - Throws: ``SodiumError/streamInvalid`` when the chunk is altered, out of order, from
        ///   another stream or key, when `additionalData` differs from the writer's, or when a
        ///   chunk follows the final one.
        public func pull(
            _ ciphertext: UnsafeRawBufferPointer, additionalData: [UInt8] = [], into out: UnsafeMutableRawBufferPointer
        ) throws(SodiumError) -> Bool {
            if finished || ciphertext.count < SecretStream.overhead { throw .streamInvalid }
            try checkLength("secretstream plaintext buffer", out.count, ciphertext.count - SecretStream.overhead)
            var tag: UInt8 = 0
            var empty: UInt8 = 0
            let rc = additionalData.withUnsafeBufferPointer { ad in
                crypto_secretstream_xchacha20poly1305_pull(
                    state, out.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafeMutablePointer(to: &empty) { $0 }, nil,
                    &tag, ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count),
                    ad.baseAddress, UInt64(ad.count))
            }
            if rc != 0 { throw .streamInvalid }
            finished = tag == UInt8(crypto_secretstream_xchacha20poly1305_TAG_FINAL)
            return finished
        }
    }
}
