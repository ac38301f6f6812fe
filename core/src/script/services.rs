//! Service-style calls: `wildduck.users.getUsers(#{ query: "ann" })`.
//!
//! Each service is one small variable (a [`ServiceProxy`]); nothing is built
//! per operation when the engine starts. The first time a script reads a
//! group (`wildduck.users`), the proxy builds the maps of that service once:
//! group name → object map of operation name → function pointer curried with
//! the operation id. Rhai calls a function pointer stored in a map property
//! with method syntax, so `wildduck.users.getUsers(x)` becomes
//! `call("wildduck.users.getUsers", x)`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rhai::{Dynamic, FnPtr, Map};

use super::host::{Host, RhaiResult};
use crate::engine::Registry;
use crate::error::Error;

/// The native function the curried pointers name. The leading `opdeck_`
/// keeps it clear of script names; calling it directly is harmless.
pub(crate) const OP_FN: &str = "opdeck_op";

/// A service as a script sees it: `service.group` is an object map of the
/// group's operations.
#[derive(Clone)]
pub struct ServiceProxy {
    service: Arc<str>,
    registry: Arc<Registry>,
    groups: Arc<OnceLock<HashMap<String, Map>>>,
}

impl ServiceProxy {
    fn groups(&self) -> &HashMap<String, Map> {
        self.groups.get_or_init(|| {
            let mut groups: HashMap<String, Map> = HashMap::new();
            let ops = self.registry.service(&self.service).unwrap_or_default();
            for op in &ops {
                let h = op.head();
                let Ok(mut ptr) = FnPtr::new(OP_FN) else { continue };
                ptr.add_curry(h.id.to_owned().into());
                groups.entry(h.group.to_owned()).or_default().insert(h.name.into(), Dynamic::from(ptr));
            }
            // Former ids of renamed operations (`kitsu.crud.postDataPersons`)
            // still work, unless a current operation has that name.
            for op in &ops {
                let h = op.head();
                for former in h.former_ids {
                    let mut parts = former.splitn(3, '.');
                    let (Some(_), Some(group), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                        continue;
                    };
                    let Ok(mut ptr) = FnPtr::new(OP_FN) else { continue };
                    ptr.add_curry(h.id.to_owned().into());
                    groups
                        .entry(group.to_owned())
                        .or_default()
                        .entry(name.into())
                        .or_insert_with(|| Dynamic::from(ptr));
                }
            }
            groups
        })
    }

    fn group(&mut self, name: &str) -> RhaiResult<Map> {
        if let Some(group) = self.groups().get(name) {
            return Ok(group.clone());
        }
        let suggestions = crate::engine::suggest(name, self.groups().keys().map(String::as_str));
        let hint = match suggestions.first() {
            Some(s) => format!("; did you mean `{s}`?"),
            None => String::new(),
        };
        Host::fail(Error::usage(format!("service `{}` has no group `{name}`{hint}", self.service)))
    }

    /// The group names, for `service.groups()`.
    fn group_names(&mut self) -> rhai::Array {
        let mut names: Vec<&String> = self.groups().keys().collect();
        names.sort();
        names.into_iter().map(|n| Dynamic::from(n.clone())).collect()
    }
}

/// The operation a group map would have called `name`, when `map` is one of
/// the service proxies' group maps: its prefix (`wildduck.users`) is read
/// from an entry whose curried id ends in its own name.
fn group_prefix(map: &Map) -> Option<String> {
    map.iter().find_map(|(name, value)| {
        let ptr = value.read_lock::<FnPtr>()?;
        if ptr.fn_name() != OP_FN {
            return None;
        }
        let id = ptr.curry().first()?.read_lock::<rhai::ImmutableString>()?.to_string();
        id.strip_suffix(name.as_str())?.strip_suffix('.').map(str::to_owned)
    })
}

/// Makes `service.group.unknownName(..)` an unknown-operation error that
/// names the id and the registry's closest ones, instead of Rhai's
/// "function not found".
pub(crate) fn unknown_operations(engine: &mut rhai::Engine, host: &Arc<Host>) {
    let host = host.clone();
    // Rhai calls this hook when any call fails, so it answers only for a
    // method it knows is missing: a name the group map does not have.
    #[allow(deprecated)] // "volatile", not deprecated (Rhai's own words)
    engine.on_missing_function(move |name, args, is_method_call, _ctx| {
        if !is_method_call || name == OP_FN {
            return Ok(None);
        }
        let Some(first) = args.first() else { return Ok(None) };
        let Some(prefix) =
            first.read_lock::<Map>().and_then(|map| if map.contains_key(name) { None } else { group_prefix(&map) })
        else {
            return Ok(None);
        };
        let id = format!("{prefix}.{name}");
        match host.deck.registry().get(&id) {
            Err(err) => Err(super::errors::throw(&err)),
            // Not in the map but known (added since the map was built): not ours to run here.
            Ok(_) => Ok(None),
        }
    });
}

/// The name of the script variable of `service`: letters, digits and `_`.
pub(crate) fn variable_name(service: &str) -> String {
    service.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// Registers the proxy type and its property access.
pub(crate) fn register(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<ServiceProxy>("Service");
    // Properties with no getter fall back to the string indexer, so this one
    // function serves `wildduck.users` and `wildduck["users"]` alike.
    engine.register_indexer_get(|proxy: &mut ServiceProxy, group: &str| proxy.group(group));
    engine.register_fn("groups", ServiceProxy::group_names);
    engine.register_fn("to_string", |proxy: &mut ServiceProxy| format!("service `{}`", proxy.service));
    engine.register_fn("to_debug", |proxy: &mut ServiceProxy| format!("service `{}`", proxy.service));
}

/// One proxy per registered service, with its variable name.
pub(crate) fn proxies(registry: &Arc<Registry>) -> Vec<(String, ServiceProxy)> {
    registry
        .services()
        .into_iter()
        .map(|info| {
            let proxy = ServiceProxy {
                service: info.name.as_str().into(),
                registry: registry.clone(),
                groups: Arc::new(OnceLock::new()),
            };
            (variable_name(&info.name), proxy)
        })
        .collect()
}
