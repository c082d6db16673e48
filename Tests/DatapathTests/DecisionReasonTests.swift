import Datapath
import Testing
import VerdictEngine

@Suite("Decision reasons")
struct DecisionReasonTests {
    @Test("every engine reason converts to the decision reason of the same name and label")
    func engineReasonsConvert() {
        for reason in VerdictReason.allCases {
            let decision = DecisionReason(reason)
            #expect(decision.engineReason == reason)
            #expect(decision.description == reason.description)
            #expect(decision.isEgressDenial == reason.isEgressDenial)
        }
        #expect(DecisionReason.allCases.count == VerdictReason.allCases.count + 3)
    }

    @Test("the datapath's own reasons have their own labels and are not denials")
    func datapathReasons() {
        let own: [DecisionReason] = [.neighbourDiscovery, .malformed, .noSnapshot]
        #expect(own.map(\.description) == ["neighbour_discovery", "malformed", "no_snapshot"])
        #expect(own.map(\.engineReason) == [nil, nil, nil])
        #expect(own.allSatisfy { !$0.isEgressDenial })
    }
}
