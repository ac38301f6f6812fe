//! opdeck's integration tests, one module per concern.
//! Each module's first line says what it covers.
// Loading the real-world specs of tests/specs: counts, names, schemas, warnings.
mod spec_ingest;
// The stripped test inputs of tests/specs are current with the originals beside the repo.
mod test_inputs;
// The built-in catalogs: current with their specs, counts, DRACOON's markers and names.
mod catalogs;
// Finding operations: verbs and plurals in searches, Kitsu's collection routes by name, former ids.
mod discovery;
// Dry runs: secrets by schema and by name, no invented credentials, placeholder base URLs.
mod dry_run;
// Paging over each built-in service's own envelope, on loopback servers: every item once, caps, cycles.
mod paginate_wire;
// A hermetic loopback HTTP server that records the bytes on the wire.
mod support;
// The loopback server's own behaviour.
mod wire_support;
// Parameters on the wire: styles, explode, locations, path and header safety.
mod wire_params;
// Request bodies on the wire: JSON, form, multipart, raw and text, files streamed.
mod wire_bodies;
// Transport on the wire: redirects, retries, timeouts, downloads, errors, events.
mod wire_transport;
// Spec loading edge cases on hand-written fixtures: refs, cycles, dialects, forms, external refs.
mod spec_edges;
// Specs repaired on load: undeclared path variables, impossible schemas, response examples.
mod spec_repairs;
// The `openapi.previewSpec` and `openapi.addSource` meta-operations beside a native Rust operation.
mod spec_meta;
// Native operations and a captured-output engine shared by the script tests.
mod script_support;
// The Rhai script API: calls, errors, paging, parallel calls, discovery, host functions.
mod script_engine;
// Hostile Rhai scripts against the sandbox's limits.
mod script_sandbox;
// The offline simulator on hand-built operations: routing, request checks, generated answers.
mod mock_sim;
// The simulator's state: create, read back, update, delete, pages of 25, state files.
mod mock_state;
// Configuration: TOML profiles, environment overrides, secret sources, errors, redaction.
mod config_load;
// Credentials on the wire: api keys, bearer, basic, OAuth2, login flows, expiry, redaction.
mod auth_wire;
// Loading the specs for the simulator tests, with valid requests and credentials.
mod mock_support;
// The simulator on the five real specs: example inputs accepted, broken raw requests refused.
mod mock_specs;
// Locating and starting the live peers (Prism, Zou) and a transport that records exchanges.
mod peers;
// Every operation of the eight specs of tests/specs, with generated input, accepted by Prism.
mod prism_conformance;
// The simulator and Stoplight Prism judge the same raw requests alike.
mod mock_prism;
// Live Kitsu (Zou): login flow, project lifecycle, token renewal, paging.
mod live_kitsu;
// The facade hosts and bindings use: builder, call options, bulk calls, pages, natives, policies.
mod deck_facade;
// Property tests over the parsers, bounded in time (issue 16).
mod fuzz;
// The automation scripts of scripts/ against Prism mocks, the live Zou and loopback servers.
mod scripts_live;
