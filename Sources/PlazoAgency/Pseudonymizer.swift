import PlazoModel
import PlazoSodium

/// Why a case identifier cannot be pseudonymised.
public enum CaseIdentifierError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case nonASCII
    case tooLong(Int)

    /// Stable machine-readable reason.
    public var code: String {
        switch self {
        case .empty: "case_id_empty"
        case .nonASCII: "case_id_not_ascii"
        case .tooLong: "case_id_too_long"
        }
    }

    public var description: String {
        switch self {
        case .empty: "the case identifier is empty (or has no letters or digits)"
        case .nonASCII: "the case identifier has characters outside printable ASCII"
        case let .tooLong(n): "the case identifier is \(n) characters long after normalisation (at most \(CaseIdentifier.maxLength))"
        }
    }
}

/// The normalisation of jurisdiction-wide case identifiers (`specs/batch-format.md` §6), so that
/// `"cdmx/fids/00123-2024 "` at the police and `"CDMX-FIDS-00123-2024"` at the prosecutor's
/// office give the same pseudonym.
///
/// 1. The identifier must consist of printable ASCII (0x20–0x7E) only; anything else is an error.
/// 2. Lowercase letters a–z become uppercase A–Z.
/// 3. Every maximal run of characters that are not A–Z or 0–9 becomes one `-`.
/// 4. A leading or trailing `-` is removed.
/// 5. The result must be 1 to 128 characters long.
///
/// Leading zeros are kept (`00123` and `123` are different identifiers).
public enum CaseIdentifier {
    /// Longest normalised identifier.
    public static let maxLength = 128

    /// The normalised form of `raw`.
    public static func normalise(_ raw: String) throws(CaseIdentifierError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.utf8.count)
        var pendingSeparator = false
        for c in raw.utf8 {
            guard c >= 0x20, c <= 0x7E else { throw .nonASCII }
            let upper = (c >= 0x61 && c <= 0x7A) ? c - 0x20 : c
            let alnum = (upper >= 0x41 && upper <= 0x5A) || (upper >= 0x30 && upper <= 0x39)
            if alnum {
                if pendingSeparator, !out.isEmpty { out.append(0x2D) }
                pendingSeparator = false
                out.append(upper)
            } else {
                pendingSeparator = true
            }
        }
        if out.isEmpty { throw .empty }
        if out.count > maxLength { throw .tooLong(out.count) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Turns case identifiers into case pseudonyms with the jurisdiction's linkage key:
///
///     pseudonym = BLAKE2b(key: linkage key, output: 16 bytes,
///                         message: "plazo-case-v1:" || normalised identifier)
///
/// Every agency of the jurisdiction holds the same linkage key, so the same case gets the same
/// pseudonym wherever it is recorded and a referral from the police continues the prosecutor's
/// case. The service never holds the key: without it, a pseudonym cannot be computed from a
/// guessed case number (keyed BLAKE2b is a PRF), let alone inverted.
public struct Pseudonymizer: Sendable {
    /// The domain-separation prefix of the hashed message.
    public static let domainPrefix: [UInt8] = Array("plazo-case-v1:".utf8)

    let linkageKey: SecretBytes

    /// A pseudonymizer keyed with the jurisdiction's 32-byte linkage key.
    public init(linkageKey: SecretBytes) throws(SodiumError) {
        if linkageKey.count != 32 { throw .invalidLength(what: "linkage key", expected: 32, actual: linkageKey.count) }
        self.linkageKey = linkageKey
    }

    /// The pseudonym of a raw case identifier (normalised first).
    public func pseudonym(forCaseID raw: String) throws(CaseIdentifierError) -> CasePseudonym {
        let normalised = try CaseIdentifier.normalise(raw)
        return pseudonym(forNormalised: normalised)
    }

    /// The pseudonym of an already normalised identifier.
    public func pseudonym(forNormalised normalised: String) -> CasePseudonym {
        // Lengths are fixed and valid (key 32, output 16), so BLAKE2b cannot fail here.
        let digest = try! GenericHash.keyedHash(Self.domainPrefix + Array(normalised.utf8), key: linkageKey, outputLength: 16)
        return CasePseudonym(bytes: digest)!
    }
}
