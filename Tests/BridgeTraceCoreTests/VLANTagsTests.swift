@testable import BridgeTraceCore
import Testing

/// The inline tag stack reads and compares as the array of tags it replaced.
@Suite struct VLANTagsTests {
    let outer = VLANTag(tpid: 0x88a8, vid: 300)
    let inner = VLANTag(tpid: 0x8100, vid: 100, pcp: 5, dei: true)

    @Test func emptyIsEmpty() {
        let tags = VLANTags()
        #expect(tags.isEmpty && tags.count == 0 && !tags.isFull)
        #expect(tags.first == nil)
        #expect(tags == [])
        #expect(Array(tags) == [])
        #expect(tags.description == "[]")
    }

    @Test func tagsKeepTheirOrderUpToTheCapacity() {
        var tags = VLANTags()
        tags.append(outer)
        tags.append(inner)
        #expect(tags.count == 2 && !tags.isFull)
        #expect(tags[0] == outer && tags[1] == inner)
        #expect(tags.first?.vid == 300)
        #expect(tags.map(\.vid) == [300, 100])
        #expect(Array(tags.enumerated().map(\.offset)) == [0, 1])
        tags.append(VLANTag(tpid: 0x9100, vid: 7))
        tags.append(VLANTag(tpid: 0x8100, vid: 4095))
        #expect(tags.isFull && tags.count == VLANTags.capacity && VLANTags.capacity == FrameDecoder.maxVLANTags)
        #expect(tags.map(\.vid) == [300, 100, 7, 4095])
    }

    @Test func equalityAndHashingSeeOnlyTheTags() {
        let literal: VLANTags = [outer, inner]
        let built = VLANTags([outer, inner])
        #expect(literal == built)
        #expect(literal != [outer])
        #expect(literal != [inner, outer])
        #expect(Set([literal, built, [outer]]).count == 2)
        #expect(literal.description == [outer, inner].description)
    }
}
