//! Lua values ↔ `serde_json::Value`, the one conversion of the binding.
//!
//! Lua has one table type for JSON's arrays and objects and no null, so the
//! mapping needs three markers, all exported on the module table:
//!
//! - `opdeck.null` (a light userdata, like `cjson.null`) is JSON `null`.
//!   `nil` cannot stand for it: a key set to `nil` is no key at all.
//! - `opdeck.array(t)` marks `t` as an array, `opdeck.object(t)` as an
//!   object. Only empty tables need it: a table whose keys are exactly
//!   `1..n` is an array, any other non-empty table an object, and an
//!   unmarked empty table is an object (`{}`), as with most Lua JSON
//!   libraries.
//!
//! Arrays and objects decoded from JSON carry their marker, so they convert
//! back to the same JSON, empty ones included. An object also keeps the
//! server's key order: its metatable holds the keys in order and a `__pairs`
//! that walks them first (keys added later follow in Lua's order), so
//! `pairs` over a decoded body and the JSON it converts back to both keep it.
//! A table built in Lua has no order to keep: its keys go out in Lua's.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::RandomState;

use mlua::{Function, LightUserData, Lua, RegistryKey, Table, Value as LuaValue, ffi};
use serde::de::DeserializeSeed as _;
use serde_json::Value;

/// Tables nested deeper than this are refused (a cycle would never end).
const MAX_DEPTH: usize = 128;

/// Registry names of the shared metatables.
const ARRAY_MT: &str = "opdeck.array";
const OBJECT_MT: &str = "opdeck.object";
/// The metatable field that holds an object's keys in order.
const KEYS: &str = "__opdeck_keys";

/// `opdeck.null`: a null light userdata, equal to itself only.
pub fn null() -> LuaValue {
    LuaValue::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Whether `value` is `opdeck.null`.
pub fn is_null(value: &LuaValue) -> bool {
    matches!(value, LuaValue::LightUserData(ud) if ud.0.is_null())
}

/// The shared metatables, made once per Lua state and kept in its app
/// data, with the metatables of the object shapes seen so far.
struct Markers {
    array: Table,
    object: Table,
    /// Registry slots of the markers and of the ordered `__pairs`, which the
    /// raw converter ([`to_lua`]) pushes.
    array_key: RegistryKey,
    object_key: RegistryKey,
    ordered_pairs_key: RegistryKey,
    /// The registry slot of the string [`KEYS`], which the raw reader
    /// ([`from_lua`]) looks up in metatables.
    keys_key: RegistryKey,
    shapes: RefCell<Shapes>,
}

/// The metatables of decoded objects, one per key sequence: the items of a
/// list, which have one shape, share one, so a decoded body costs one table
/// per object and its metatable only once. The metatables live in a Lua
/// table (`table`) at their slot numbers.
struct Shapes {
    hasher: RandomState,
    by_hash: HashMap<u64, (Box<[String]>, ffi::lua_Integer), RandomState>,
    table: RegistryKey,
    next: ffi::lua_Integer,
}

/// Shapes kept at most; past it the cache starts again (the metatables stay
/// with the objects that have them).
const MAX_SHAPES: usize = 1024;

impl Shapes {
    fn hash<'k>(&self, keys: impl Iterator<Item = &'k str>) -> u64 {
        let mut h = self.hasher.build_hasher();
        keys.for_each(|k| k.hash(&mut h));
        h.finish()
    }

    /// The slot of the metatable of objects with these keys in this order.
    fn find<'k>(&self, hash: u64, keys: impl Iterator<Item = &'k str>) -> Option<ffi::lua_Integer> {
        self.by_hash.get(&hash).filter(|(known, _)| known.iter().map(String::as_str).eq(keys)).map(|(_, slot)| *slot)
    }

    /// Starts the cache again, with a new table, once it is full.
    fn make_room(&mut self, lua: &Lua) -> mlua::Result<()> {
        if self.by_hash.len() >= MAX_SHAPES {
            lua.replace_registry_value(&mut self.table, lua.create_table()?)?;
            self.by_hash.clear();
            self.next = 1;
        }
        Ok(())
    }
}

fn markers(lua: &Lua) -> mlua::Result<mlua::AppDataRef<'_, Markers>> {
    lua.app_data_ref::<Markers>()
        .ok_or_else(|| mlua::Error::runtime("opdeck: the module was not opened in this Lua state"))
}

/// Creates the markers in `lua`'s app data; [`open`](crate::open) calls it.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    if lua.app_data_ref::<Markers>().is_some() {
        return Ok(());
    }
    let array = lua.create_table()?;
    array.set("__name", ARRAY_MT)?;
    let object = lua.create_table()?;
    object.set("__name", OBJECT_MT)?;
    // Walks the recorded keys that are still set, then any key added since;
    // a table without recorded keys is walked as `next` walks it.
    let ordered_pairs: Function = lua
        .load(
            r#"
            local keys_field = ...
            local next, getmetatable, rawget, type = next, getmetatable, rawget, type
            return function(t)
              local mt = getmetatable(t)
              local keys = type(mt) == "table" and rawget(mt, keys_field)
              if not keys then return next, t, nil end
              local seen = {}
              for _, k in ipairs(keys) do seen[k] = true end
              local i, tail = 0, nil
              return function()
                while i < #keys do
                  i = i + 1
                  local k = keys[i]
                  local v = rawget(t, k)
                  if v ~= nil then return k, v end
                end
                repeat
                  local v
                  tail, v = next(t, tail)
                  if tail == nil then return nil end
                  if not seen[tail] then return tail, v end
                until false
              end, t, nil
            end
            "#,
        )
        .set_name("=opdeck.ordered_pairs")
        .call(KEYS)?;
    let shapes = Shapes {
        hasher: RandomState::default(),
        by_hash: HashMap::default(),
        table: lua.create_registry_value(lua.create_table()?)?,
        next: 1,
    };
    lua.set_app_data(Markers {
        array_key: lua.create_registry_value(&array)?,
        object_key: lua.create_registry_value(&object)?,
        ordered_pairs_key: lua.create_registry_value(ordered_pairs)?,
        keys_key: lua.create_registry_value(KEYS)?,
        array,
        object,
        shapes: RefCell::new(shapes),
    });
    Ok(())
}

/// `opdeck.pairs(t)`: `pairs` in the server's key order on every Lua,
/// 5.1 and LuaJIT included, which ignore the `__pairs` of decoded objects.
pub(crate) fn ordered_pairs(lua: &Lua) -> mlua::Result<Function> {
    lua.registry_value(&markers(lua)?.ordered_pairs_key)
}

/// `opdeck.array(t)` / `opdeck.object(t)`: marks `t` (or a new table) and returns it.
pub(crate) fn mark(lua: &Lua, table: Option<Table>, as_array: bool) -> mlua::Result<Table> {
    let table = match table {
        Some(t) => t,
        None => lua.create_table()?,
    };
    let m = markers(lua)?;
    table.set_metatable(Some(if as_array { m.array.clone() } else { m.object.clone() }))?;
    Ok(table)
}

/// A JSON value as a Lua value.
pub fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    let mut events = Vec::new();
    // A `Value` always reads back as one: no error can come of it.
    tape::Tape(&mut events).deserialize(value).map_err(|e| bad("", &format!("cannot be read: {e}")))?;
    events_to_lua(lua, &events)
}

/// A JSON text as a Lua value, read straight into Lua tables without a
/// `Value` between (a body the deck handed over undecoded); `Err` when it
/// is not JSON.
pub fn json_to_lua(lua: &Lua, text: &[u8]) -> mlua::Result<Result<LuaValue, serde_json::Error>> {
    match tape::read(text) {
        Ok(events) => events_to_lua(lua, &events).map(Ok),
        Err(e) => Ok(Err(e)),
    }
}

/// JSON texts as Lua values, each set into `list` at its index, all in one
/// protected call: a fan-out converts the results that arrived together
/// at once. Returns the indexes whose text is not JSON, with the error;
/// nothing is set there.
pub fn json_texts_into(
    lua: &Lua,
    list: &Table,
    texts: &[(usize, &[u8])],
) -> mlua::Result<Vec<(usize, serde_json::Error)>> {
    let mut tapes = Vec::with_capacity(texts.len());
    let mut broken = Vec::new();
    for (index, text) in texts {
        match tape::read(text) {
            Ok(events) => tapes.push((*index as ffi::lua_Integer, events)),
            Err(e) => broken.push((*index, e)),
        }
    }
    let m = markers(lua)?;
    m.shapes.borrow_mut().make_room(lua)?;
    let mut too_deep = false;
    // SAFETY: as in `events_to_lua`; `list` is argument 1 of the call.
    unsafe { lua.exec_raw::<()>(list, |state| raw::push_into(state, &m, &tapes, &mut too_deep))? };
    if too_deep {
        return Err(bad("", "nests too deep for Lua's stack"));
    }
    Ok(broken)
}

/// Builds the Lua value of `events` with Lua's C API in one protected call,
/// not a call of mlua's per table and per field: for the bench's 2-item body
/// that takes 2.5 µs instead of 3.6 (a Lua literal of the same tables takes 1.3).
fn events_to_lua(lua: &Lua, events: &[tape::Event<'_>]) -> mlua::Result<LuaValue> {
    let m = markers(lua)?;
    m.shapes.borrow_mut().make_room(lua)?;
    let mut too_deep = false;
    // SAFETY: `exec_raw` runs the closure in protected mode, so a Lua error
    // (out of memory) unwinds to it by longjmp: the raw functions below hold
    // no value with a destructor (only references, borrows of `Shapes` that
    // end before any Lua call, and iterators over `events`) while they call
    // Lua. Each checks the stack before it pushes.
    let out = unsafe { lua.exec_raw::<LuaValue>((), |state| raw::push_root(state, &m, events, &mut too_deep))? };
    if too_deep {
        return Err(bad("", "nests too deep for Lua's stack"));
    }
    Ok(out)
}

/// A JSON document as a flat list of events, which one serde visitor builds
/// from a `Value` or straight from a JSON text, and [`raw`] pushes.
mod tape {
    use std::borrow::Cow;

    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

    /// One step of a document, in document order.
    #[derive(Debug)]
    pub(super) enum Event<'a> {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        /// A string, or an object's key; borrowed from the text when it
        /// needs no unescaping.
        Str(Cow<'a, str>),
        /// An array of `len` items, whose events end before index `end`.
        Array {
            len: usize,
            end: usize,
        },
        /// An object of `len` entries, each its key's `Str` then its
        /// value's events, ending before index `end`.
        Object {
            len: usize,
            end: usize,
        },
    }

    /// The events of a JSON text, or why it is not JSON.
    pub(super) fn read(text: &[u8]) -> Result<Vec<Event<'_>>, serde_json::Error> {
        let mut events = Vec::with_capacity(text.len() / 8 + 4);
        let mut de = serde_json::Deserializer::from_slice(text);
        Tape(&mut events).deserialize(&mut de).and_then(|()| de.end())?;
        Ok(events)
    }

    /// The index after the value that starts at `at`.
    pub(super) fn skip(events: &[Event<'_>], at: usize) -> usize {
        match events[at] {
            Event::Array { end, .. } | Event::Object { end, .. } => end,
            _ => at + 1,
        }
    }

    /// The keys of the object that starts at `at`, in order.
    pub(super) fn keys<'e>(events: &'e [Event<'_>], at: usize) -> impl Iterator<Item = &'e str> + Clone {
        let len = match events[at] {
            Event::Object { len, .. } => len,
            _ => 0,
        };
        let mut next = at + 1;
        (0..len).map(move |_| {
            let key = match &events[next] {
                Event::Str(k) => k.as_ref(),
                _ => "",
            };
            next = skip(events, next + 1);
            key
        })
    }

    /// Appends the events of one value.
    pub(super) struct Tape<'a, 't>(pub(super) &'t mut Vec<Event<'a>>);

    impl<'a> Tape<'a, '_> {
        /// Appends a container: its event, then its entries, one for each
        /// call of `entry` that returns true; its event then gets their
        /// count and where they end.
        fn container<E>(
            self,
            event: fn(usize, usize) -> Event<'a>,
            mut entry: impl FnMut(&mut Vec<Event<'a>>) -> Result<bool, E>,
        ) -> Result<(), E> {
            let at = self.0.len();
            self.0.push(event(0, 0));
            let mut len = 0;
            while entry(self.0)? {
                len += 1;
            }
            self.0[at] = event(len, self.0.len());
            Ok(())
        }
    }

    impl<'de> DeserializeSeed<'de> for Tape<'de, '_> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Tape<'de, '_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_unit<E>(self) -> Result<(), E> {
            self.0.push(Event::Null);
            Ok(())
        }

        fn visit_none<E>(self) -> Result<(), E> {
            self.0.push(Event::Null);
            Ok(())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }

        fn visit_bool<E>(self, v: bool) -> Result<(), E> {
            self.0.push(Event::Bool(v));
            Ok(())
        }

        fn visit_i64<E>(self, v: i64) -> Result<(), E> {
            self.0.push(Event::Int(v));
            Ok(())
        }

        fn visit_u64<E>(self, v: u64) -> Result<(), E> {
            self.0.push(i64::try_from(v).map_or(Event::Float(v as f64), Event::Int));
            Ok(())
        }

        fn visit_f64<E>(self, v: f64) -> Result<(), E> {
            self.0.push(Event::Float(v));
            Ok(())
        }

        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
            self.0.push(Event::Str(Cow::Borrowed(v)));
            Ok(())
        }

        fn visit_str<E>(self, v: &str) -> Result<(), E> {
            self.0.push(Event::Str(Cow::Owned(v.to_owned())));
            Ok(())
        }

        fn visit_string<E>(self, v: String) -> Result<(), E> {
            self.0.push(Event::Str(Cow::Owned(v)));
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.container(
                |len, end| Event::Array { len, end },
                |events| Ok(seq.next_element_seed(Tape(events))?.is_some()),
            )
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            self.container(
                |len, end| Event::Object { len, end },
                |events| {
                    if map.next_key_seed(Tape(&mut *events))?.is_none() {
                        return Ok(false);
                    }
                    map.next_value_seed(Tape(events))?;
                    Ok(true)
                },
            )
        }
    }
}

/// The raw half of [`to_lua`]: pushes a [`tape`].
mod raw {
    use std::ffi::{c_char, c_int};

    use mlua::ffi::{self, lua_State};

    use super::tape::{self, Event};
    use super::{MAX_SHAPES, Markers, OBJECT_MT};

    /// Stack slots of what the converter pushes again and again.
    struct Slots {
        array: c_int,
        object: c_int,
        ordered_pairs: c_int,
        shapes: c_int,
        /// The field name of a shape's key list.
        keys: c_int,
    }

    /// Pushes the value of `events`, as the one value the closure leaves.
    pub(super) unsafe fn push_root(l: *mut lua_State, m: &Markers, events: &[Event<'_>], too_deep: &mut bool) {
        unsafe {
            if ffi::lua_checkstack(l, 9) == 0 || events.is_empty() {
                *too_deep = !events.is_empty();
                ffi::lua_pushnil(l);
                return;
            }
            let base = ffi::lua_gettop(l);
            let at = slots(l, m, base);
            push(l, m, &at, events, 0, too_deep);
            ffi::lua_replace(l, base + 1);
            ffi::lua_settop(l, base + 1);
        }
    }

    /// Pushes the value of each tape and sets it into the table at argument
    /// 1 of the protected call, at the tape's index.
    pub(super) unsafe fn push_into(
        l: *mut lua_State,
        m: &Markers,
        tapes: &[(ffi::lua_Integer, Vec<Event<'_>>)],
        too_deep: &mut bool,
    ) {
        unsafe {
            if ffi::lua_checkstack(l, 9) == 0 {
                *too_deep = true;
                return;
            }
            let base = ffi::lua_gettop(l);
            let at = slots(l, m, base);
            for (index, events) in tapes.iter().filter(|(_, events)| !events.is_empty()) {
                push(l, m, &at, events, 0, too_deep);
                ffi::lua_rawseti(l, 1, *index);
            }
            ffi::lua_settop(l, base);
        }
    }

    /// Pushes what the converter pushes again and again; `base` is the top
    /// before.
    unsafe fn slots(l: *mut lua_State, m: &Markers, base: c_int) -> Slots {
        unsafe {
            let shapes = m.shapes.borrow().table.id();
            for key in [m.array_key.id(), m.object_key.id(), m.ordered_pairs_key.id(), shapes, m.keys_key.id()] {
                ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, ffi::lua_Integer::from(key));
            }
            Slots { array: base + 1, object: base + 2, ordered_pairs: base + 3, shapes: base + 4, keys: base + 5 }
        }
    }

    unsafe fn push_str(l: *mut lua_State, s: &str) {
        unsafe {
            ffi::lua_pushlstring(l, s.as_ptr().cast::<c_char>(), s.len());
        }
    }

    /// The bytes of the string at `idx`.
    unsafe fn lua_str<'a>(l: *mut lua_State, idx: c_int) -> &'a [u8] {
        unsafe {
            let mut n = 0usize;
            let p = ffi::lua_tolstring(l, idx, &mut n);
            std::slice::from_raw_parts(p.cast::<u8>(), n)
        }
    }

    fn len(n: usize) -> c_int {
        c_int::try_from(n).unwrap_or(c_int::MAX)
    }

    /// Pushes the value that starts at `events[i]`; returns the index after it.
    unsafe fn push(
        l: *mut lua_State,
        m: &Markers,
        at: &Slots,
        events: &[Event<'_>],
        i: usize,
        too_deep: &mut bool,
    ) -> usize {
        unsafe {
            match &events[i] {
                Event::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
                Event::Bool(b) => ffi::lua_pushboolean(l, c_int::from(*b)),
                Event::Int(n) => ffi::lua_pushinteger(l, *n as ffi::lua_Integer),
                Event::Float(n) => ffi::lua_pushnumber(l, *n),
                Event::Str(s) => push_str(l, s),
                // A container uses at most 5 slots above its own level: the
                // table, a key and a value; for an object of a known shape,
                // the table, its metatable, the key list, a key and a value;
                // for a new shape, the table, the metatable, a field name,
                // the key list and a key.
                Event::Array { end, .. } | Event::Object { end, .. } if ffi::lua_checkstack(l, 5) == 0 => {
                    *too_deep = true;
                    ffi::lua_pushnil(l);
                    return *end;
                }
                Event::Array { len: n, end } => {
                    ffi::lua_createtable(l, len(*n), 0);
                    let mut next = i + 1;
                    for k in 0..*n {
                        next = push(l, m, at, events, next, too_deep);
                        ffi::lua_rawseti(l, -2, k as ffi::lua_Integer + 1);
                    }
                    ffi::lua_pushvalue(l, at.array);
                    ffi::lua_setmetatable(l, -2);
                    return *end;
                }
                Event::Object { len: n, end } => {
                    ffi::lua_createtable(l, 0, len(*n));
                    let shape = (*n >= 2).then(|| find_shape(m, tape::keys(events, i)));
                    if let Some((_, Some(slot))) = shape {
                        // A known shape: its key list holds this object's keys
                        // as Lua strings already, cheaper to fetch than to make
                        // (each checked, since a script can reach the list).
                        ffi::lua_rawgeti(l, at.shapes, slot);
                        ffi::lua_pushvalue(l, at.keys);
                        ffi::lua_rawget(l, -2);
                        let mut next = i + 1;
                        for (k, key) in tape::keys(events, i).enumerate() {
                            if ffi::lua_rawgeti(l, -1, k as ffi::lua_Integer + 1) != ffi::LUA_TSTRING
                                || lua_str(l, -1) != key.as_bytes()
                            {
                                ffi::lua_pop(l, 1);
                                push_str(l, key);
                            }
                            next = push(l, m, at, events, next + 1, too_deep);
                            // The object, its metatable, the key list, the key, the value.
                            ffi::lua_rawset(l, -5);
                        }
                        ffi::lua_pop(l, 1);
                    } else {
                        let mut next = i + 1;
                        for _ in 0..*n {
                            next = push(l, m, at, events, next, too_deep);
                            next = push(l, m, at, events, next, too_deep);
                            ffi::lua_rawset(l, -3);
                        }
                        match shape {
                            Some((hash, _)) => new_shape(l, m, at, hash, *n, tape::keys(events, i)),
                            // No order to keep: the shared marker is enough.
                            None => ffi::lua_pushvalue(l, at.object),
                        }
                    }
                    ffi::lua_setmetatable(l, -2);
                    return *end;
                }
            }
            i + 1
        }
    }

    /// The hash of the shape of an object with these keys, and its slot if
    /// it is cached. The cache is borrowed only between Lua calls.
    fn find_shape<'k>(m: &Markers, keys: impl Iterator<Item = &'k str> + Clone) -> (u64, Option<ffi::lua_Integer>) {
        let shapes = m.shapes.borrow();
        let hash = shapes.hash(keys.clone());
        (hash, shapes.find(hash, keys))
    }

    /// Pushes a new metatable for the shape of an object with these `count`
    /// keys (of `hash`), and caches it.
    unsafe fn new_shape<'k>(
        l: *mut lua_State,
        m: &Markers,
        at: &Slots,
        hash: u64,
        count: usize,
        keys: impl Iterator<Item = &'k str> + Clone,
    ) {
        unsafe {
            let slot = m.shapes.borrow().next;
            ffi::lua_createtable(l, 0, 3);
            push_str(l, "__name");
            push_str(l, OBJECT_MT);
            ffi::lua_rawset(l, -3);
            ffi::lua_pushvalue(l, at.keys);
            ffi::lua_createtable(l, len(count), 0);
            for (i, k) in keys.clone().enumerate() {
                push_str(l, k);
                ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 1);
            }
            ffi::lua_rawset(l, -3);
            push_str(l, "__pairs");
            ffi::lua_pushvalue(l, at.ordered_pairs);
            ffi::lua_rawset(l, -3);
            if m.shapes.borrow().by_hash.len() >= MAX_SHAPES {
                // Full until the next conversion starts the cache again.
                return;
            }
            ffi::lua_pushvalue(l, -1);
            ffi::lua_rawseti(l, at.shapes, slot);
            // Every Lua call is made: now the cache may hold owned keys.
            let mut shapes = m.shapes.borrow_mut();
            shapes.next = slot + 1;
            // On a hash collision the newer shape takes the entry.
            shapes.by_hash.insert(hash, (keys.map(str::to_owned).collect(), slot));
        }
    }
}

/// A Lua value as JSON. `nil` is `null`; functions, threads and userdata
/// other than `opdeck.null` are refused with the path where they sit.
///
/// Read with Lua's C API in one protected call, as [`to_lua`] builds, not
/// through mlua's handles, which cost a protected call per table entry.
pub fn from_lua(lua: &Lua, value: LuaValue) -> mlua::Result<Value> {
    read_raw(lua, value, read::root)
}

/// The calls of `deck:parallel`, a list of `{id, input}` pairs, as
/// `(id, input)`; an input that is `nil` is `{}`. `None` when an entry is a
/// function, which only the embedded executor can run.
///
/// The whole list is read in one protected call, as [`from_lua`] reads one
/// value: a fan-out of a thousand calls would otherwise pay a protected
/// call and mlua's handles for every pair.
pub(crate) fn calls_from_lua(lua: &Lua, calls: &Table) -> mlua::Result<Option<Vec<(String, Value)>>> {
    read_raw(lua, calls, read::calls)
}

/// Runs `reader` in one protected call whose argument 1 is `arg`.
fn read_raw<T>(
    lua: &Lua,
    arg: impl mlua::IntoLuaMulti,
    reader: unsafe fn(*mut ffi::lua_State, &Markers) -> mlua::Result<T>,
) -> mlua::Result<T> {
    let m = markers(lua)?;
    let mut out = None;
    // SAFETY: the readers call only Lua functions that raise no error
    // (type tests, raw reads, `lua_next` over a table they do not change,
    // `lua_checkstack`): nothing can unwind past the Rust values they hold.
    // They leave the stack as they found it.
    unsafe {
        lua.exec_raw::<()>(arg, |state| {
            out = Some(reader(state, &m));
        })?;
    }
    out.unwrap_or_else(|| Err(bad("", "was not read")))
}

/// The raw half of [`from_lua`] and [`calls_from_lua`].
mod read {
    use std::ffi::c_int;
    use std::fmt;

    use mlua::ffi::{self, lua_State};
    use serde_json::map::Entry;
    use serde_json::{Map, Number, Value};

    use super::{MAX_DEPTH, Markers};

    /// Stack slots of the markers and of the key list's field name.
    struct Slots {
        array: c_int,
        object: c_int,
        keys: c_int,
    }

    /// Where a value sits: the steps from the root, borrowed from the
    /// reader's frames and written out only for an error.
    #[derive(Clone, Copy)]
    enum Path<'a> {
        Root,
        /// The root of the input of `deck:parallel`'s call `n` (from 1).
        Call(usize),
        Key(&'a Path<'a>, &'a str),
        Index(&'a Path<'a>, usize),
    }

    impl Path<'_> {
        /// The call whose input this path is in, if any.
        fn call(&self) -> Option<usize> {
            match self {
                Path::Root => None,
                Path::Call(n) => Some(*n),
                Path::Key(up, _) | Path::Index(up, _) => up.call(),
            }
        }
    }

    impl fmt::Display for Path<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Path::Root | Path::Call(_) => Ok(()),
                Path::Key(up, key) => write!(f, "{up}/{key}"),
                Path::Index(up, i) => write!(f, "{up}/{i}"),
            }
        }
    }

    fn bad(path: &Path<'_>, what: &str) -> mlua::Error {
        let at = path.to_string();
        match path.call() {
            None => super::bad(&at, what),
            Some(n) => {
                super::bad(&format!("{} in call {n} of deck:parallel", if at.is_empty() { "/" } else { &at }), what)
            }
        }
    }

    /// Pushes the markers and the key list's field name; `base` is the top
    /// before.
    unsafe fn slots(l: *mut lua_State, m: &Markers, base: c_int) -> Slots {
        unsafe {
            for key in [m.array_key.id(), m.object_key.id(), m.keys_key.id()] {
                ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, ffi::lua_Integer::from(key));
            }
            Slots { array: base + 1, object: base + 2, keys: base + 3 }
        }
    }

    /// Reads argument 1 of the protected call.
    pub(super) unsafe fn root(l: *mut lua_State, m: &Markers) -> mlua::Result<Value> {
        unsafe {
            if ffi::lua_checkstack(l, 8) == 0 {
                return Err(bad(&Path::Root, "nests too deep for Lua's stack"));
            }
            let base = ffi::lua_gettop(l);
            let at = slots(l, m, base);
            let out = value(l, &at, 1, 0, &Path::Root);
            ffi::lua_settop(l, base);
            out
        }
    }

    /// Reads argument 1 of the protected call, a list of `{id, input}`
    /// pairs (see [`super::calls_from_lua`]).
    pub(super) unsafe fn calls(l: *mut lua_State, m: &Markers) -> mlua::Result<Option<Vec<(String, Value)>>> {
        unsafe {
            // The markers, then an entry, its id or input, and 4 slots for a table.
            if ffi::lua_checkstack(l, 10) == 0 {
                return Err(bad(&Path::Root, "nests too deep for Lua's stack"));
            }
            let base = ffi::lua_gettop(l);
            let at = slots(l, m, base);
            let out = call_list(l, &at);
            ffi::lua_settop(l, base);
            out
        }
    }

    unsafe fn call_list(l: *mut lua_State, at: &Slots) -> mlua::Result<Option<Vec<(String, Value)>>> {
        unsafe {
            let n = ffi::lua_rawlen(l, 1);
            let mut out = Vec::with_capacity(n);
            for i in 1..=n {
                let entry = ffi::lua_gettop(l) + 1;
                match ffi::lua_rawgeti(l, 1, i as ffi::lua_Integer) {
                    ffi::LUA_TTABLE => {}
                    ffi::LUA_TFUNCTION => return Ok(None),
                    t => {
                        return Err(mlua::Error::runtime(format!(
                            "deck:parallel takes {{id, input}} pairs, not a {} (call {i})",
                            type_name(t)
                        )));
                    }
                }
                let id = match ffi::lua_rawgeti(l, entry, 1) {
                    ffi::LUA_TSTRING => string(l, entry + 1, &Path::Call(i))?,
                    t => {
                        return Err(mlua::Error::runtime(format!(
                            "deck:parallel: call {i} has no operation id (its first item is a {}, not a string)",
                            type_name(t)
                        )));
                    }
                };
                let input = match ffi::lua_rawgeti(l, entry, 2) {
                    ffi::LUA_TNIL => Value::Object(Map::new()),
                    _ => value(l, at, entry + 2, 0, &Path::Call(i))?,
                };
                ffi::lua_settop(l, entry - 1);
                out.push((id, input));
            }
            Ok(Some(out))
        }
    }

    /// A number as Lua holds it: an integer (on 5.1, 5.2 and LuaJIT, a
    /// float with an integer's value), or a float.
    unsafe fn number(l: *mut lua_State, idx: c_int) -> Result<i64, f64> {
        unsafe {
            if ffi::lua_isinteger(l, idx) != 0 {
                Ok(ffi::lua_tointeger(l, idx))
            } else {
                Err(ffi::lua_tonumber(l, idx))
            }
        }
    }

    unsafe fn string(l: *mut lua_State, idx: c_int, path: &Path<'_>) -> mlua::Result<String> {
        unsafe {
            let mut len = 0usize;
            let ptr = ffi::lua_tolstring(l, idx, &mut len);
            let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len);
            std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| bad(path, "is a string that is not UTF-8"))
        }
    }

    fn type_name(t: c_int) -> &'static str {
        match t {
            ffi::LUA_TNIL => "nil",
            ffi::LUA_TBOOLEAN => "boolean",
            ffi::LUA_TNUMBER => "number",
            ffi::LUA_TSTRING => "string",
            ffi::LUA_TTABLE => "table",
            ffi::LUA_TLIGHTUSERDATA => "lightuserdata",
            ffi::LUA_TFUNCTION => "function",
            ffi::LUA_TTHREAD => "thread",
            _ => "userdata",
        }
    }

    /// The value at `idx` (an absolute index).
    unsafe fn value(l: *mut lua_State, at: &Slots, idx: c_int, depth: usize, path: &Path<'_>) -> mlua::Result<Value> {
        unsafe {
            Ok(match ffi::lua_type(l, idx) {
                ffi::LUA_TNIL => Value::Null,
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, idx).is_null() => Value::Null,
                ffi::LUA_TBOOLEAN => Value::Bool(ffi::lua_toboolean(l, idx) != 0),
                ffi::LUA_TNUMBER => match number(l, idx) {
                    Ok(i) => Value::from(i),
                    // 3.0 from Lua arithmetic is the JSON integer 3.
                    Err(n) if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 => Value::from(n as i64),
                    Err(n) => Value::Number(Number::from_f64(n).ok_or_else(|| bad(path, "is not a finite number"))?),
                },
                ffi::LUA_TSTRING => Value::String(string(l, idx, path)?),
                ffi::LUA_TTABLE => {
                    // A table uses at most 4 slots above the stack's top: its
                    // metatable and key list, or a key and a value.
                    if depth >= MAX_DEPTH {
                        return Err(bad(path, "nests too deep (a table that contains itself?)"));
                    }
                    if ffi::lua_checkstack(l, 4) == 0 {
                        return Err(bad(path, "nests too deep for Lua's stack"));
                    }
                    table(l, at, idx, depth, path)?
                }
                t => return Err(bad(path, &format!("is a {}, which has no JSON form", type_name(t)))),
            })
        }
    }

    /// How a table's metatable marks it.
    enum Marked {
        Array,
        Object,
        /// A decoded object: the stack slot of its key list.
        Ordered(c_int),
        None,
    }

    /// The table at `idx`: an array if marked so, or if its keys are
    /// exactly `1..n`; otherwise an object, in its recorded key order first.
    unsafe fn table(l: *mut lua_State, at: &Slots, idx: c_int, depth: usize, path: &Path<'_>) -> mlua::Result<Value> {
        unsafe {
            let top = ffi::lua_gettop(l);
            let marked = if ffi::lua_getmetatable(l, idx) == 0 {
                Marked::None
            } else if ffi::lua_rawequal(l, -1, at.array) != 0 {
                Marked::Array
            } else if ffi::lua_rawequal(l, -1, at.object) != 0 {
                Marked::Object
            } else {
                ffi::lua_pushvalue(l, at.keys);
                if ffi::lua_rawget(l, -2) == ffi::LUA_TTABLE { Marked::Ordered(top + 2) } else { Marked::None }
            };
            let len = ffi::lua_rawlen(l, idx);
            let is_array = match marked {
                Marked::Array => true,
                Marked::None => len > 0 && entries(l, idx) == len,
                Marked::Object | Marked::Ordered(_) => false,
            };
            let out = if is_array {
                let mut items = Vec::with_capacity(len);
                for i in 1..=len {
                    ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                    let item = value(l, at, ffi::lua_gettop(l), depth + 1, &Path::Index(path, i - 1));
                    ffi::lua_pop(l, 1);
                    items.push(item?);
                }
                Value::Array(items)
            } else {
                let keys = if let Marked::Ordered(keys) = marked { Some(keys) } else { None };
                object(l, at, idx, keys, depth, path)?
            };
            ffi::lua_settop(l, top);
            Ok(out)
        }
    }

    /// How many entries the table at `idx` has.
    unsafe fn entries(l: *mut lua_State, idx: c_int) -> usize {
        unsafe {
            let mut n = 0;
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                ffi::lua_pop(l, 1);
                n += 1;
            }
            n
        }
    }

    /// The object at `idx`: first the entries named by its key list (at
    /// `keys`, for a decoded object) that are still set, in that order, then
    /// the others in Lua's order. A key already read (from the key list, or
    /// `1` beside `"1"`) keeps its first value.
    unsafe fn object(
        l: *mut lua_State,
        at: &Slots,
        idx: c_int,
        keys: Option<c_int>,
        depth: usize,
        path: &Path<'_>,
    ) -> mlua::Result<Value> {
        unsafe {
            let mut map = Map::new();
            if let Some(keys) = keys {
                for i in 1.. {
                    if ffi::lua_rawgeti(l, keys, i) == ffi::LUA_TNIL {
                        ffi::lua_pop(l, 1);
                        break;
                    }
                    let key = self::key(l, -1, path);
                    if ffi::lua_rawget(l, idx) == ffi::LUA_TNIL {
                        ffi::lua_pop(l, 1);
                        continue;
                    }
                    let key = key?;
                    let v = value(l, at, ffi::lua_gettop(l), depth + 1, &Path::Key(path, &key));
                    ffi::lua_pop(l, 1);
                    map.insert(key, v?);
                }
            }
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                if let Entry::Vacant(slot) = map.entry(key(l, -2, path)?) {
                    let v = value(l, at, ffi::lua_gettop(l), depth + 1, &Path::Key(path, slot.key()));
                    slot.insert(v?);
                }
                ffi::lua_pop(l, 1);
            }
            Ok(Value::Object(map))
        }
    }

    /// The key at `idx` as a JSON key. A number key is written out without
    /// converting the Lua value in place, which would upset `lua_next`.
    unsafe fn key(l: *mut lua_State, idx: c_int, path: &Path<'_>) -> mlua::Result<String> {
        unsafe {
            match ffi::lua_type(l, idx) {
                ffi::LUA_TSTRING => string(l, idx, path),
                ffi::LUA_TNUMBER => Ok(match number(l, idx) {
                    Ok(i) => i.to_string(),
                    Err(n) => n.to_string(),
                }),
                t => Err(bad(path, &format!("has a {} key; JSON keys are strings", type_name(t)))),
            }
        }
    }
}

fn bad(path: &str, what: &str) -> mlua::Error {
    let at = if path.is_empty() { "/" } else { path };
    mlua::Error::runtime(format!("opdeck: the value at {at} {what}"))
}

#[cfg(all(test, feature = "vendored"))]
mod tests {
    use super::*;
    use serde_json::json;

    fn lua() -> Lua {
        let lua = Lua::new();
        install(&lua).expect("install");
        lua
    }

    #[test]
    fn json_round_trips_through_lua_with_markers_and_order() {
        let lua = lua();
        let doc =
            json!({"z": 1, "a": [], "m": {}, "n": null, "list": [1, null, "x"], "f": 1.5, "deep": {"b": 2, "a": 1}});
        let back = from_lua(&lua, to_lua(&lua, &doc).expect("to lua")).expect("from lua");
        assert_eq!(serde_json::to_string(&back).expect("json"), serde_json::to_string(&doc).expect("json"));
    }

    #[test]
    fn a_json_text_reads_as_its_value_does() {
        let lua = lua();
        let text = r#"{"z": "q\"uote \u00e9 \\", "a\nb": [], "m": {}, "n": null, "big": 18446744073709551615,
            "neg": -7, "f": 1.5, "list": [1, {"y": true, "x": false}, [null]], "deep": {"b": 2, "a": 1}}"#;
        let value: Value = serde_json::from_str(text).expect("json");
        let read = json_to_lua(&lua, text.as_bytes()).expect("lua").expect("parsed");
        let back = from_lua(&lua, read).expect("from lua");
        // As through a `Value`: key order kept, a u64 past Lua's integers a float.
        let via_value = from_lua(&lua, to_lua(&lua, &value).expect("to lua")).expect("from lua");
        assert_eq!(serde_json::to_string(&back).expect("json"), serde_json::to_string(&via_value).expect("json"));
        assert_eq!(back["big"], serde_json::json!(18446744073709551615.0));
        assert_eq!(back["z"], serde_json::json!("q\"uote é \\"));
        for broken in [&b"{\"a\": [1,"[..], b"[1] 2", b"", b"\xff"] {
            assert!(json_to_lua(&lua, broken).expect("lua").is_err(), "{broken:?}");
        }
    }

    #[test]
    fn texts_go_into_a_list_at_their_indexes_and_broken_ones_are_told() {
        let lua = lua();
        let list = lua.create_table().expect("table");
        list.raw_set(2, "kept").expect("set");
        let texts: [(usize, &[u8]); 3] =
            [(1, br#"{"b": 1, "a": [true]}"#), (3, b"{nope"), (4, br#"{"b": 2, "a": []}"#)];
        let broken = json_texts_into(&lua, &list, &texts).expect("lua");
        assert_eq!(broken.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![3]);
        assert_eq!(list.raw_get::<String>(2).expect("get"), "kept");
        assert!(list.raw_get::<LuaValue>(3).expect("get").is_nil(), "nothing set for a broken text");
        let read = |i: usize| from_lua(&lua, list.raw_get(i).expect("get")).expect("from lua");
        assert_eq!(serde_json::to_string(&read(1)).expect("json"), r#"{"b":1,"a":[true]}"#);
        assert_eq!(serde_json::to_string(&read(4)).expect("json"), r#"{"b":2,"a":[]}"#);
    }

    #[test]
    fn objects_of_one_shape_share_a_metatable_and_each_shape_keeps_its_order() {
        let lua = lua();
        let doc = json!([{"b": 1, "a": 2}, {"b": 3, "a": 4}, {"a": 5, "b": 6}]);
        let items = to_lua(&lua, &doc).expect("to lua");
        lua.globals().set("items", items.clone()).expect("global");
        let (shared, other, orders): (bool, bool, String) = lua
            .load(
                r#"
                local out = {}
                for i, item in ipairs(items) do
                  local keys = {}
                  for k in pairs(item) do keys[#keys + 1] = k end
                  out[i] = table.concat(keys, ",")
                end
                return getmetatable(items[1]) == getmetatable(items[2]),
                  getmetatable(items[1]) == getmetatable(items[3]), table.concat(out, " ")
                "#,
            )
            .eval()
            .expect("eval");
        assert!(shared, "one shape, one metatable");
        assert!(!other, "another order is another shape");
        assert_eq!(orders, "b,a b,a a,b");
        let back = from_lua(&lua, items).expect("from lua");
        assert_eq!(serde_json::to_string(&back).expect("json"), serde_json::to_string(&doc).expect("json"));
    }

    #[test]
    fn a_script_that_edits_a_shapes_key_list_does_not_change_later_objects() {
        let lua = lua();
        let doc = json!({"b": 1, "a": 2});
        let first = to_lua(&lua, &doc).expect("to lua");
        lua.globals().set("first", first).expect("global");
        lua.load(format!("local keys = getmetatable(first).{KEYS}; keys[1] = 'x'; keys[2] = 7")).exec().expect("edit");
        let second = to_lua(&lua, &doc).expect("to lua");
        assert_eq!(from_lua(&lua, second).expect("from lua"), doc);
    }

    #[test]
    fn the_shape_cache_starts_again_when_full() {
        let lua = lua();
        let docs: Vec<Value> = (0..MAX_SHAPES + 10).map(|i| json!({format!("k{i}"): 1, "z": 2})).collect();
        for doc in &docs {
            to_lua(&lua, doc).expect("to lua");
        }
        assert!(markers(&lua).expect("markers").shapes.borrow().by_hash.len() <= MAX_SHAPES);
        // Many shapes in one protected call: the cache stops at its cap.
        let texts: Vec<String> = (0..MAX_SHAPES + 10).map(|i| format!(r#"{{"q{i}": 1, "z": 2}}"#)).collect();
        let texts: Vec<(usize, &[u8])> = texts.iter().enumerate().map(|(i, t)| (i + 1, t.as_bytes())).collect();
        let list = lua.create_table().expect("table");
        assert!(json_texts_into(&lua, &list, &texts).expect("lua").is_empty());
        assert!(markers(&lua).expect("markers").shapes.borrow().by_hash.len() <= MAX_SHAPES);
        let last = from_lua(&lua, list.raw_get(MAX_SHAPES + 10).expect("get")).expect("from lua");
        assert_eq!(serde_json::to_string(&last).expect("json"), format!(r#"{{"q{}":1,"z":2}}"#, MAX_SHAPES + 9));
        let first = to_lua(&lua, &docs[0]).expect("to lua");
        assert_eq!(from_lua(&lua, first).expect("from lua"), docs[0]);
    }

    #[test]
    fn plain_tables_map_by_their_keys() {
        let lua = lua();
        let v: LuaValue = lua.load("return { {1, 2}, {}, { a = 1 }, 3.0 }").eval().expect("eval");
        assert_eq!(from_lua(&lua, v).expect("convert"), json!([[1, 2], {}, {"a": 1}, 3]));
    }

    #[test]
    fn a_decoded_object_keeps_its_order_after_keys_are_removed_and_added() {
        let lua = lua();
        let obj = to_lua(&lua, &json!({"z": 1, "y": 2, "x": 3})).expect("to lua");
        lua.globals().set("obj", obj.clone()).expect("global");
        lua.load("obj.y = nil; obj.w = 4").exec().expect("edit");
        assert_eq!(
            serde_json::to_string(&from_lua(&lua, obj).expect("from lua")).expect("json"),
            r#"{"z":1,"x":3,"w":4}"#
        );
    }

    #[test]
    fn number_keys_are_written_out_and_other_keys_refused_with_their_path() {
        let lua = lua();
        let v: LuaValue = lua.load("return { a = { [2] = 'b', [1.5] = 'c' } }").eval().expect("eval");
        assert_eq!(from_lua(&lua, v).expect("convert"), json!({"a": {"2": "b", "1.5": "c"}}));
        let v: LuaValue = lua.load("return { a = { [true] = 1 } }").eval().expect("eval");
        let err = from_lua(&lua, v).expect_err("a boolean key").to_string();
        assert!(err.contains("/a") && err.contains("boolean key"), "{err}");
        let v: LuaValue = lua.load("local t = {}; t.self = t; return t").eval().expect("eval");
        let err = from_lua(&lua, v).expect_err("a cycle").to_string();
        assert!(err.contains("nests too deep"), "{err}");
    }

    #[test]
    fn parallel_calls_are_read_in_one_pass_and_a_bad_one_is_named() {
        let lua = lua();
        lua.globals().set("null", null()).expect("global");
        let calls: Table = lua
            .load("return { {'a.b.c', { n = 1, list = {1, 2} }}, {'a.b.d'}, {'a.b.e', null} }")
            .eval()
            .expect("eval");
        let read = calls_from_lua(&lua, &calls).expect("read").expect("pairs");
        assert_eq!(
            read,
            vec![
                ("a.b.c".to_owned(), json!({"n": 1, "list": [1, 2]})),
                ("a.b.d".to_owned(), json!({})),
                ("a.b.e".to_owned(), json!(null)),
            ]
        );
        let with_fn: Table = lua.load("return { {'a.b.c', {}}, function() end }").eval().expect("eval");
        assert_eq!(calls_from_lua(&lua, &with_fn).expect("read"), None, "a function is for the executor");
        for (list, says) in [
            ("{ {'a.b.c', {}}, {'a.b.c', { f = print }} }", "the value at /f in call 2 of deck:parallel is a function"),
            ("{ {'a.b.c', {}}, {'a.b.c', { x = { [true] = 1 } }} }", "/x in call 2 of deck:parallel has a boolean key"),
            ("{ 'a.b.c' }", "takes {id, input} pairs, not a string (call 1)"),
            ("{ {'a.b.c'}, {}, }", "call 2 has no operation id (its first item is a nil, not a string)"),
            ("{ {42, {}} }", "call 1 has no operation id (its first item is a number, not a string)"),
        ] {
            let calls: Table = lua.load(format!("return {list}")).eval().expect("eval");
            let err = calls_from_lua(&lua, &calls).expect_err(list).to_string();
            assert!(err.contains(says), "{list}: {err}");
        }
    }

    #[test]
    fn functions_are_refused_with_their_path() {
        let lua = lua();
        let v: LuaValue = lua.load("return { body = { f = print } }").eval().expect("eval");
        let err = from_lua(&lua, v).expect_err("a function");
        assert!(err.to_string().contains("/body/f"), "{err}");
    }
}
