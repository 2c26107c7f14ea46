import PlazoModel
import PlazoPrivacy

/// Ledger failures. A refused spend changes nothing.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Some scopes lack the budget; the spend was refused whole.
    case budgetExceeded([ScopeShortfall])
    /// A scope name is not `YYYYQn`.
    case invalidScope(String)
    /// A spend named no scope.
    case noScopes
    /// A cost or budget was invalid (non-positive cost, negative budget, overflow).
    case invalidAmount(PrivacyError)
    /// A required text field (purpose, requester, steward) was empty.
    case missingField(String)
    /// A database failure.
    case database(String)
    /// A budget larger than the ledger can represent (``LedgerRules/largestBudget``).
    case budgetTooLarge(String)
    /// A raise of an existing budget, or a budget above ``LedgerRules/confirmationThreshold``,
    /// without the explicit confirmation.
    case confirmationRequired(String)

    /// A human-readable form.
    public var description: String {
        switch self {
        case let .budgetExceeded(s): "privacy budget exceeded, spend refused: " + s.map(\.description).joined(separator: "; ")
        case let .invalidScope(s): "invalid privacy scope \"\(s)\" (expected a report quarter such as 2024Q1)"
        case .noScopes: "a spend must name at least one scope"
        case let .invalidAmount(e): "invalid privacy amount: \(e)"
        case let .missingField(f): "\(f) must not be empty"
        case let .database(why): "ledger database error: \(why)"
        case let .budgetTooLarge(why): why
        case let .confirmationRequired(why): why
        }
    }
}

/// The ledger's scopes are report-quarter cohorts (``Quarter``, `2024Q1`), stored in their
/// canonical text.
///
/// Why per cohort: the privacy unit is one case and every case belongs to exactly one cohort (the
/// quarter of its first report). Releases about different cohorts touch disjoint sets of cases,
/// so they compose in parallel: each cohort's guarantee depends only on the spends that named it
/// (see docs/privacy-model.md).
extension Quarter {
    /// Reads a ledger scope: exactly the canonical `YYYYQn` (year 1900–2999, quarter 1–4), as
    /// ``Quarter/init(canonical:)`` reads it; anything else throws ``LedgerError/invalidScope(_:)``.
    public init(scope text: String) throws(LedgerError) {
        guard let quarter = Quarter(canonical: text) else { throw .invalidScope(text) }
        self = quarter
    }
}
