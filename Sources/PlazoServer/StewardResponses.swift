import Foundation
import PlazoModel
import PlazoPrivacy
import PlazoSodium
import PlazoStore
import PlazoWire

// The JSON bodies of the steward's endpoints (`specs/openapi.yaml`: `Ledger`, `Agency`, `Token`).
// Every name is snake_case; optional fields documented as nullable are written as `null`, the
// others are left out when absent.

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
struct LedgerResponse: Encodable {
    struct Balance: Encodable {
        var scope: String
        var budget: RhoJSON
        var budgetIsDefault: Bool
        var spent: RhoJSON
        var remaining: RhoJSON
        var spendCount: Int
        enum CodingKeys: String, CodingKey {
            case scope, budget, budgetIsDefault = "budget_is_default", spent, remaining, spendCount = "spend_count"
        }
    }

    struct Spend: Encodable {
        var id: Int64
        var spentAt: String
        var scopes: [String]
        var cost: CostJSON
        var charged: RhoJSON
        var purpose: String
        var requester: String
        enum CodingKeys: String, CodingKey { case id, spentAt = "spent_at", scopes, cost, charged, purpose, requester }
    }

    struct Audit: Encodable {
        var consistent: Bool
        var problems: [String]
        var spendCount: Int
        var flaggedBudgetChanges: [Int64]
        enum CodingKeys: String, CodingKey {
            case consistent, problems, spendCount = "spend_count", flaggedBudgetChanges = "flagged_budget_changes"
        }
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
        enum CodingKeys: String, CodingKey {
            case id, changedAt = "changed_at", changedBy = "changed_by", scope, previous, budget, requested, flagged, flags, reason
        }

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
    enum CodingKeys: String, CodingKey {
        case defaultBudget = "default_budget", balances, spends, audit, budgetHistory = "budget_history"
    }
}

/// A registered agency and its keys (`Agency`).
struct AgencyJSON: Encodable {
    struct Key: Encodable {
        var keyID: String
        var publicKey: String
        var status: String
        var addedAt: String
        var retiredAt: String?
        enum CodingKeys: String, CodingKey {
            case keyID = "key_id", publicKey = "public_key", status, addedAt = "added_at", retiredAt = "retired_at"
        }
    }

    var id: UInt32
    var name: String
    var type: String
    var createdAt: String
    var keys: [Key]
    enum CodingKeys: String, CodingKey { case id, name, type, createdAt = "created_at", keys }

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
struct AgencyList: Encodable { var agencies: [AgencyJSON] }

/// A token's record (`Token`); `token` (the secret) only in the answer that creates it.
struct TokenJSON: Encodable {
    var id: Int64
    var name: String
    var role: String
    var createdAt: String
    var createdBy: String
    var active: Bool
    var revokedAt: String?
    var token: String?
    enum CodingKeys: String, CodingKey {
        case id, name, role, createdAt = "created_at", createdBy = "created_by", active, revokedAt = "revoked_at", token
    }

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
struct TokenList: Encodable { var tokens: [TokenJSON] }
