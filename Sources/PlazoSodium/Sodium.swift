import CSodium

/// Errors raised by the libsodium bridge. Every failure of a libsodium call is one of these
/// cases; the bridge never returns optionals for failures and never traps on bad input.
public enum SodiumError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `sodium_init()` failed: the library cannot be used (no entropy source, for example).
    case initialisationFailed
    /// A buffer had the wrong length for the primitive (`what` names it).
    case invalidLength(what: String, expected: Int, actual: Int)
    /// A length was outside the range a primitive accepts.
    case lengthOutOfRange(what: String, range: ClosedRange<Int>, actual: Int)
    /// `crypto_box_seal_open` failed: the ciphertext was not sealed to this key, or was altered.
    case sealedBoxOpenFailed
    /// `crypto_box_seal` failed.
    case sealFailed
    /// An Ed25519 signature did not verify against the message and public key.
    case signatureInvalid
    /// A ``SecretStream`` chunk did not authenticate: altered, out of order, from another stream
    /// or key, or past the final chunk.
    case streamInvalid
    /// A libsodium primitive reported an unexpected failure.
    case primitiveFailed(String)

    public var description: String {
        switch self {
        case .initialisationFailed: "libsodium could not be initialised"
        case let .invalidLength(what, expected, actual): "\(what) must be \(expected) bytes, got \(actual)"
        case let .lengthOutOfRange(what, range, actual):
            "\(what) must be \(range.lowerBound)...\(range.upperBound) bytes, got \(actual)"
        case .sealedBoxOpenFailed: "sealed box could not be opened (wrong key or altered ciphertext)"
        case .sealFailed: "sealed box could not be created"
        case .signatureInvalid: "signature does not verify"
        case .streamInvalid: "encrypted stream does not authenticate (wrong key, altered or truncated)"
        case let .primitiveFailed(name): "libsodium primitive \(name) failed"
        }
    }
}

/// Library initialisation. Every entry point of this module calls ``Sodium/ensureInitialised()``
/// first; `sodium_init` is thread-safe and idempotent, and the result is cached.
public enum Sodium {
    private static let initResult: Int32 = sodium_init()

    /// Initialises libsodium once. Throws ``SodiumError/initialisationFailed`` if it cannot be used.
    public static func ensureInitialised() throws(SodiumError) {
        if initResult < 0 { throw .initialisationFailed }
    }

    /// The libsodium version string, for diagnostics (`1.0.18` on the supported machines).
    public static var versionString: String {
        String(cString: sodium_version_string())
    }
}

@inline(__always)
func checkLength(_ what: String, _ actual: Int, _ expected: Int) throws(SodiumError) {
    if actual != expected { throw .invalidLength(what: what, expected: expected, actual: actual) }
}

/// `Array.withUnsafeBytes` rethrows untyped errors; this keeps a typed error (the bridge's own
/// `SodiumError`, or a caller's, such as the wire format's `BatchError`).
@inline(__always)
public func withBytes<R, E: Error>(
    _ array: [UInt8],
    _ body: (UnsafeRawBufferPointer) throws(E) -> R
) throws(E) -> R {
    let result: Result<R, E> = array.withUnsafeBytes { buffer in
        do throws(E) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// `Array.withUnsafeMutableBytes` keeping a typed error (see ``withBytes(_:_:)``).
@inline(__always)
public func withMutableBytes<R, E: Error>(
    _ array: inout [UInt8],
    _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
) throws(E) -> R {
    let result: Result<R, E> = array.withUnsafeMutableBytes { buffer in
        do throws(E) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}
