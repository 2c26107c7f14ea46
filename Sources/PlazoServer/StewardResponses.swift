import Foundation
import Hummingbird
import PlazoModel
import PlazoPrivacy
import PlazoSodium
import PlazoStore
import PlazoWire

// The JSON bodies of the steward's endpoints (`specs/openapi.yaml`: `Ledger`, `Agency`, `Token`),
// returned by the handlers as typed values (`ResponseEncodable`). Every name is snake_case,
// converted from the property names by the request context's encoder (``PlazoResponseEncoder``);
// optional fields documented as nullable are written as `null`, the others are left out when absent.

/// A ρ: the exact rational as text and a decimal for display.
struct RhoJSON: Encodable, Hashable {
    var exact: String
    var decimal: Double

    init(_ rho: Rational) {
        exact = rho.description
        decimal = rho.doubleValue
    }
}

/// A privacy cost: `{"definition": "zcdp", "rho": ...}` or `{"definition": "pure_dp", "epsilon": ...}`.
struct CostJSON: Encodable, Hashable {
    var definition: String
    var rho: String?
    var epsilon: String?

    init(_ cost: PrivacyCost) {
        switch cost {
        case let .zCDP(rho): (definition, self.rho) = ("zcdp", rho.description)
        case let .pureDP(epsilon): (definition, self.epsilon) = ("pure_dp", epsilon.description)
        }
    }
}

/// `GET /v1/ledger`.
struct LedgerResponse: ResponseEncodable {
    struct Balance: Encodable {
        var scope: String
        var budget: RhoJSON
        var budgetIsDefault: Bool
        var spent: RhoJSON
        var remaining: RhoJSON
        var spendCount: Int
    }

    struct Spend: Encodable {
        var id: Int64
        var spentAt: String
        var scopes: [String]
        var cost: CostJSON
        var charged: RhoJSON
        var purpose: String
        var requester: String
    }

    struct Audit: Encodable {
        var consistent: Bool
        var problems: [String]
        var spendCount: Int
        var flaggedBudgetChanges: [Int64]
    }

    /// One budget change; `scope` (null = the default budget), `previous` and `reason` are
    /// written as `null` when absent.
    struct BudgetChange: Encodable {
        var id: Int64
        var changedAt: String
        var changedBy: String
        var scope: String?
        var previous: RhoJSON?
        var budget: RhoJSON
        var requested: String
        var flagged: Bool
        var flags: [String]
        var reason: String?
        enum CodingKeys: String, CodingKey { case id, changedAt, changedBy, scope, previous, budget, requested, flagged, flags, reason }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(changedAt, forKey: .changedAt)
            try c.encode(changedBy, forKey: .changedBy)
            try c.encode(scope, forKey: .scope)
            try c.encode(previous, forKey: .previous)
            try c.encode(budget, forKey: .budget)
            try c.encode(requested, forKey: .requested)
            try c.encode(flagged, forKey: .flagged)
            try c.encode(flags, forKey: .flags)
            try c.encode(reason, forKey: .reason)
        }
    }

    var defaultBudget: RhoJSON
    var balances: [Balance]
    var spends: [Spend]
    var audit: Audit
    /// Who changed which budget, when, from what to what, and why (oldest first).
    var budgetHistory: [BudgetChange]
}

/// A registered agency and its keys (`Agency`).
struct AgencyJSON: ResponseEncodable {
    struct Key: Encodable {
        var keyID: String
        var publicKey: String
        var status: String
        var addedAt: String
        var retiredAt: String?
    }

    var id: UInt32
    var name: String
    var type: String
    var createdAt: String
    var keys: [Key]

    init(_ a: AgencyRecord) {
        id = a.id.rawValue
        name = a.name
        type = a.type.label
        createdAt = timestamp(a.createdAt)
        keys = a.keys.map {
            Key(keyID: $0.keyID.hex, publicKey: Hex.encode($0.publicKey.bytes), status: $0.status.rawValue, addedAt: timestamp($0.addedAt),
                retiredAt: $0.retiredAt.map(timestamp))
        }
    }
}

/// `GET /v1/agencies`.
struct AgencyList: ResponseEncodable { var agencies: [AgencyJSON] }

/// A token's record (`Token`); `token` (the secret) only in the answer that creates it.
struct TokenJSON: ResponseEncodable {
    var id: Int64
    var name: String
    var role: String
    var createdAt: String
    var createdBy: String
    var active: Bool
    var revokedAt: String?
    var token: String?

    init(_ t: TokenRecord, token: String? = nil) {
        id = t.id
        name = t.name
        role = t.role.rawValue
        createdAt = timestamp(t.createdAt)
        createdBy = t.createdBy
        active = t.isActive
        revokedAt = t.revokedAt.map(timestamp)
        self.token = token
    }
}

/// `GET /v1/tokens`.
struct TokenList: ResponseEncodable { var tokens: [TokenJSON] }
