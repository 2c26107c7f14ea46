import Foundation

/// The shape of a release's `datapackage.json` (Frictionless Data Package v1, with Plazo's own
/// `plazo` section and a `privacy` section per resource). All names are spelled out: the
/// standard's (`mediatype`, `schema.fields`) and Plazo's snake_case ones.
struct DataPackageJSON: Encodable {
    /// A field of a resource's table schema.
    struct Field: Encodable {
        var name: String
        var type: String
        var description: String
        var unit: String?
        var constraints: Constraints?

        struct Constraints: Encodable { var `enum`: [String] }

        init(_ name: String, _ type: String, _ description: String, unit: String? = nil, codes: [String]? = nil) {
            self.name = name
            self.type = type
            self.description = description
            self.unit = unit
            self.constraints = codes.map { Constraints(enum: $0) }
        }
    }

    /// How a resource's counts were protected.
    struct Privacy: Encodable {
        var mechanism: String
        var sensitivity: Int
        var rho: String
        var epsilon: String?
        var noise: String
        var noiseSD: Double
        var ciHalfWidth: Int64
        var confidenceLevel: Double
        enum CodingKeys: String, CodingKey {
            case mechanism, sensitivity, rho, epsilon, noise, noiseSD = "noise_sd", ciHalfWidth = "ci_half_width"
            case confidenceLevel = "confidence_level"
        }
    }

    /// A CSV file of the package.
    struct Resource: Encodable {
        struct Schema: Encodable { var fields: [Field] }
        var name: String
        var path: String
        var format = "csv"
        var mediatype = "text/csv"
        var encoding = "utf-8"
        var description: String
        var schema: Schema
        var privacy: Privacy

        init(name: String, path: String, description: String, fields: [Field], privacy: Privacy) {
            self.name = name
            self.path = path
            self.description = description
            self.schema = Schema(fields: fields)
            self.privacy = privacy
        }
    }

    /// Plazo's description of the release.
    struct Plazo: Encodable {
        struct EpsilonDelta: Encodable { var epsilon: Double; var delta: Double }
        struct CohortSpend: Encodable {
            var cohort: String
            var spentRho: String
            var budgetRho: String
            var epsilonAtDelta1e6: Double
            enum CodingKeys: String, CodingKey {
                case cohort, spentRho = "spent_rho", budgetRho = "budget_rho", epsilonAtDelta1e6 = "epsilon_at_delta_1e-6"
            }
        }
        var releaseID: Int64
        var cutoff: String
        var cohorts: [String]
        var mechanism: String
        var totalRho: String
        var epsilonDelta: [EpsilonDelta]
        var confidenceLevel: Double
        var batchesIncluded: Int
        var agenciesIncluded: Int
        var codeVersion: String
        var simulationReplicates: Int
        var simulationSeed: String
        /// `null` for releases made before pins existed.
        var batchWatermark: Int64?
        var cohortSpend: [CohortSpend]
        enum CodingKeys: String, CodingKey {
            case releaseID = "release_id", cutoff, cohorts, mechanism, totalRho = "total_rho", epsilonDelta = "epsilon_delta"
            case confidenceLevel = "confidence_level", batchesIncluded = "batches_included", agenciesIncluded = "agencies_included"
            case codeVersion = "code_version", simulationReplicates = "simulation_replicates", simulationSeed = "simulation_seed"
            case batchWatermark = "batch_watermark", cohortSpend = "cohort_spend"
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(releaseID, forKey: .releaseID)
            try c.encode(cutoff, forKey: .cutoff)
            try c.encode(cohorts, forKey: .cohorts)
            try c.encode(mechanism, forKey: .mechanism)
            try c.encode(totalRho, forKey: .totalRho)
            try c.encode(epsilonDelta, forKey: .epsilonDelta)
            try c.encode(confidenceLevel, forKey: .confidenceLevel)
            try c.encode(batchesIncluded, forKey: .batchesIncluded)
            try c.encode(agenciesIncluded, forKey: .agenciesIncluded)
            try c.encode(codeVersion, forKey: .codeVersion)
            try c.encode(simulationReplicates, forKey: .simulationReplicates)
            try c.encode(simulationSeed, forKey: .simulationSeed)
            try c.encode(batchWatermark, forKey: .batchWatermark)  // null when absent, as documented
            try c.encode(cohortSpend, forKey: .cohortSpend)
        }
    }

    struct License: Encodable { var name: String; var path: String }

    var profile = "data-package"
    var name: String
    var title: String
    var version: String
    var created: String
    var description: String
    var licenses = [License(name: "CC-BY-4.0", path: "https://creativecommons.org/licenses/by/4.0/")]
    var plazo: Plazo
    var resources: [Resource]

    init(name: String, title: String, version: String, created: String, description: String, plazo: Plazo, resources: [Resource]) {
        self.name = name
        self.title = title
        self.version = version
        self.created = created
        self.description = description
        self.plazo = plazo
        self.resources = resources
    }
}
