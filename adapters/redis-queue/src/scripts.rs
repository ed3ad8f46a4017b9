//! The adapter's Lua scripts (written for Paloma from the bull protocol description; see
//! `src/lua/`). Each script is the shared helpers followed by its own body.

use redis::Script;

macro_rules! lua {
    ($file:literal) => {
        concat!(
            include_str!("lua/common.lua"),
            include_str!(concat!("lua/", $file))
        )
    };
}

/// The loaded scripts; `redis::Script` sends EVALSHA and falls back to EVAL when needed.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub add: Script,
    pub activate: Script,
    pub extend: Script,
    pub complete: Script,
    pub fail: Script,
    pub release: Script,
    pub promote: Script,
    pub stalled: Script,
    pub live: Script,
    pub claim: Script,
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            add: Script::new(lua!("add.lua")),
            activate: Script::new(lua!("activate.lua")),
            extend: Script::new(lua!("extend.lua")),
            complete: Script::new(lua!("complete.lua")),
            fail: Script::new(lua!("fail.lua")),
            release: Script::new(lua!("release.lua")),
            promote: Script::new(lua!("promote.lua")),
            stalled: Script::new(lua!("stalled.lua")),
            live: Script::new(lua!("live.lua")),
            claim: Script::new(lua!("claim.lua")),
        }
    }
}
