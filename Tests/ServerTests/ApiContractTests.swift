import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// What schemathesis found where the server and docs/openapi.yaml disagreed, one test per
/// finding the server had to fix (the spec's own fixes are held by `ApiSchemaTests`, which runs
/// schemathesis against a live server).
@Suite struct ApiContractTests {
    @Test func aPercentEncodedProjectNameIsDecoded() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let schema = try await client.execute(uri: "/v1/projects/k%7A/schema", method: .get, headers: harness.headers("ana"))
            #expect(schema.status == .ok)
            #expect(try schema.decode(Wire.SchemaResponse.self).project == "kz")

            var ana = ChangeMaker(node: "000000000000000a")
            let pushed = try await harness.push(client, as: "ana", [ana.change(recordA, "title", .text("x"))], project: "%6Bz")
            #expect(try pushed.decode(Wire.PushResponse.self).results.map(\.status) == [.applied])
            let pulled = try await client.execute(uri: "/v1/projects/%6b%7a/pull", method: .get, headers: harness.headers("bek"))
            #expect(try pulled.decode(Wire.PullResponse.self).changes.count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases, ["k%20z", "k%2Fz", "k%00z", "k%ZZ", "%C3%A9t%C3%A9", String(repeating: "a", count: 65)])
    func aNameNoProjectCanHaveIs401WithoutATokenAnd400WithOne(store: StoreKind, name: String) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            for endpoint in ["schema", "pull", "snapshot"] {
                let uri = "/v1/projects/\(name)/\(endpoint)"
                let anonymous = try await client.execute(uri: uri, method: .get, headers: harness.headers(nil))
                #expect(anonymous.status == .unauthorized, "\(uri) without a token")
                #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
                let guessed = try await client.execute(uri: uri, method: .get, headers: harness.headers("cbk_wrong"))
                #expect(guessed.status == .unauthorized, "\(uri) with a wrong token")
                let member = try await client.execute(uri: uri, method: .get, headers: harness.headers("ana"))
                #expect(member.status == .badRequest, "\(uri) with a valid token")
                #expect(member.error?.code == "bad_request")
                #expect(member.error?.message.contains("is not a project name") == true)
            }
            let push = try await harness.push(client, as: "vera", [], project: name)
            #expect(push.status == .badRequest, "a viewer's push to a bad name is refused for the name, before the role")
            let anonymousPush = try await client.execute(uri: "/v1/projects/\(name)/push", method: .post, headers: harness.headers(nil),
                                                         body: ByteBuffer(string: #"{"changes":[]}"#))
            #expect(anonymousPush.status == .unauthorized)
        }
    }

    @Test(arguments: ["skipUpTo=-1", "skipUpTo=abc", "skipUpTo=", "skipUpTo=9223372036854775808",
                      "skipNode=00000000000000aa&skipUpTo=-1", "skipNode=00000000000000aa&skipUpTo=1.5"])
    func skipUpToIsCheckedWithOrWithoutSkipNode(query: String) async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/projects/kz/pull?\(query)", method: .get, headers: harness.headers("ana"))
            #expect(response.status == .badRequest, "\(query)")
            #expect(response.error?.code == "bad_request")
            #expect(response.error?.message.contains("skipUpTo") == true)
        }
    }

    @Test func aValidSkipUpToWithoutSkipNodeSkipsNothing() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            _ = try await harness.push(client, as: "ana", [ana.change(recordA, "title", .text("x"))])
            let response = try await client.execute(uri: "/v1/projects/kz/pull?skipUpTo=5", method: .get, headers: harness.headers("ana"))
            #expect(try response.decode(Wire.PullResponse.self).changes.count == 1)
        }
    }

    @Test func aKnownPathAskedWithAnotherMethodIs405WithAllow() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/v1/health", .post, "GET"), ("/v1/health", .trace, "GET"), ("/v1/projects/kz/push", .get, "POST"),
                ("/v1/projects/kz/push", .delete, "POST"), ("/v1/projects/kz/pull", .put, "GET"),
                ("/v1/projects/anything/schema", .patch, "GET"), ("/v1/projects/kz/snapshot", .options, "GET"),
            ]
            for (uri, method, allowed) in cases {
                let response = try await client.execute(uri: uri, method: method, headers: harness.headers("ana"))
                #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                #expect(response.headers[.allow] == allowed, "\(method) \(uri)")
                #expect(response.error?.code == "method_not_allowed")
                #expect(response.headers[HTTPField.Name(Wire.serverTimeHeader)!] != nil)
            }
            // Unknown paths stay 404, and the routes still answer their own methods.
            for uri in ["/v2/anything", "/v1/projects/kz/other", "/v1/projects/kz/push/more", "/v1"] {
                let response = try await client.execute(uri: uri, method: .delete, headers: harness.headers("ana"))
                #expect(response.status == .notFound, "\(uri)")
                #expect(response.error?.code == "not_found")
            }
            #expect(try await client.execute(uri: "/v1/health", method: .get).status == .ok)
        }
    }

    @Test func nullOptionalChangeFieldsAreReadAsAbsent() async throws {
        // The spec says these may be null (docs/openapi.yaml, Change): servers always read them so.
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            // The author is no longer optional in a push: it is part of what the device signed.
            let change = Change(collection: "incidents", record: recordA, field: "title", value: .text("x"),
                                hlc: try #require(HLC(text: "01949108dde8-0000-000000000000000a")), author: "ana", base: nil)
            let batches = String(decoding: try JSONEncoder().encode(ServerHarness.signedPush([change], as: "ana").batches), as: UTF8.self)
            let body = #"{"changes":[{"collection":"incidents","record":"\#(recordA)","field":"title","value":{"type":"text","value":"x"},"#
                + #""hlc":"01949108dde8-0000-000000000000000a","author":"ana","base":null,"supersedes":null,"covers":null}],"batches":"# + batches + "}"
            let response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: harness.headers("ana"),
                                                     body: ByteBuffer(string: body))
            #expect(try response.decode(Wire.PushResponse.self).results.map(\.status) == [.applied])
            let stored = try #require(try await harness.pull(client, as: "bek").changes.first?.change)
            #expect(stored.author == "ana" && stored.base == nil && stored.supersedes.isEmpty && stored.covers.isEmpty)
        }
    }
}
