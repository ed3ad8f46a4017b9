//! [`DbId`]: how a campaign or recipient id is stored: the UUID's hyphenated lowercase text
//! in a `CHAR(36)` ASCII column, as the seeds' Node stack (Prisma's `@default(uuid())`,
//! `crypto.randomUUID()`) writes it, so both stacks read each other's rows. Paloma writes v7
//! (time-ordered) ids and reads any version.

use std::io::Write;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::mysql::{Mysql, MysqlValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use paloma_domain::{ActivityId, CampaignId, KeyId, RecipientId};
use uuid::Uuid;

/// A UUID as the id columns hold it. Written without allocating (36 bytes encoded on the
/// stack); read with a strict parse, so a value that is not a UUID is a deserialisation error
/// rather than a wrong id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub(crate) struct DbId(pub Uuid);

impl DbId {
    pub(crate) fn campaign(id: CampaignId) -> Self {
        Self(*id.as_uuid())
    }

    pub(crate) fn recipient(id: RecipientId) -> Self {
        Self(*id.as_uuid())
    }

    pub(crate) fn key(id: KeyId) -> Self {
        Self(*id.as_uuid())
    }

    pub(crate) fn activity(id: ActivityId) -> Self {
        Self(*id.as_uuid())
    }
}

impl From<DbId> for ActivityId {
    fn from(id: DbId) -> Self {
        ActivityId::from_uuid(id.0)
    }
}

impl From<DbId> for CampaignId {
    fn from(id: DbId) -> Self {
        CampaignId::from_uuid(id.0)
    }
}

impl From<DbId> for KeyId {
    fn from(id: DbId) -> Self {
        KeyId::from_uuid(id.0)
    }
}

impl From<DbId> for RecipientId {
    fn from(id: DbId) -> Self {
        RecipientId::from_uuid(id.0)
    }
}

impl ToSql<Text, Mysql> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        out.write_all(self.0.hyphenated().encode_lower(&mut text).as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Mysql> for DbId {
    fn from_sql(value: MysqlValue<'_>) -> deserialize::Result<Self> {
        let text = value.as_bytes();
        Uuid::try_parse_ascii(text).map(Self).map_err(|_| {
            format!(
                "an id column holds {:?}, which is not a UUID",
                String::from_utf8_lossy(text)
            )
            .into()
        })
    }
}
