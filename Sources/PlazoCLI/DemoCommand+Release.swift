import Foundation
import PlazoCases
import PlazoIngest
import PlazoModel
import PlazoStore

extension DemoCommand {
    /// After ingest: the steward's release and the summary.
    func afterIngest(root: URL, database: AppDatabase, ingest: IngestService, base: String, today: Day) async throws {
        let anomalies = ingest.withCaseIndex { $0.anomalyCounts(asOf: today) }
        _ = anomalies
    }
}
