//! The diesel schema, written by hand: the tables keep the seed's camelCase column names, the
//! Rust side uses snake_case.

diesel::table! {
    /// A campaign.
    #[sql_name = "EmailJob"]
    email_job (id) {
        id -> Varchar,
        subject -> Varchar,
        body -> Text,
        status -> Varchar,
        #[sql_name = "totalEmails"]
        total_emails -> Unsigned<Integer>,
        #[sql_name = "sentEmails"]
        sent_emails -> Unsigned<Integer>,
        #[sql_name = "failedEmails"]
        failed_emails -> Unsigned<Integer>,
        #[sql_name = "duplicatesRemoved"]
        duplicates_removed -> Unsigned<Integer>,
        #[sql_name = "cancelledEmails"]
        cancelled_emails -> Unsigned<Integer>,
        #[sql_name = "suppressedEmails"]
        suppressed_emails -> Unsigned<Integer>,
        #[sql_name = "scheduledAt"]
        scheduled_at -> Nullable<Datetime>,
        #[sql_name = "stopReason"]
        stop_reason -> Nullable<Varchar>,
        #[sql_name = "failedRuns"]
        failed_runs -> Unsigned<Integer>,
        #[sql_name = "mergeTags"]
        merge_tags -> Bool,
        #[sql_name = "fromName"]
        from_name -> Nullable<Varchar>,
        #[sql_name = "fromEmail"]
        from_email -> Nullable<Varchar>,
        #[sql_name = "replyTo"]
        reply_to -> Nullable<Varchar>,
        #[sql_name = "createdAt"]
        created_at -> Datetime,
        #[sql_name = "startedAt"]
        started_at -> Nullable<Datetime>,
        #[sql_name = "completedAt"]
        completed_at -> Nullable<Datetime>,
        #[sql_name = "enqueuedAt"]
        enqueued_at -> Nullable<Datetime>,
        #[sql_name = "updatedAt"]
        updated_at -> Datetime,
    }
}

diesel::table! {
    /// One recipient of a campaign.
    #[sql_name = "Recipient"]
    recipient (id) {
        id -> Varchar,
        #[sql_name = "emailJobId"]
        email_job_id -> Varchar,
        email -> Varchar,
        name -> Nullable<Varchar>,
        status -> Varchar,
        error -> Nullable<Text>,
        attempts -> Unsigned<Integer>,
        #[sql_name = "nextAttemptAt"]
        next_attempt_at -> Datetime,
        #[sql_name = "sentAt"]
        sent_at -> Nullable<Datetime>,
        #[sql_name = "updatedAt"]
        updated_at -> Datetime,
        #[sql_name = "permanentFailure"]
        permanent_failure -> Bool,
        fields -> Nullable<Text>,
    }
}

diesel::joinable!(recipient -> email_job (email_job_id));
diesel::allow_tables_to_appear_in_same_query!(
    email_job,
    recipient,
    idempotency_key,
    api_key,
    activity,
    suppression,
    campaign_shard
);

diesel::table! {
    /// An idempotency key and the campaign its first request created.
    #[sql_name = "IdempotencyKey"]
    idempotency_key (key) {
        key -> Varbinary,
        fingerprint -> Binary,
        #[sql_name = "emailJobId"]
        email_job_id -> Varchar,
        #[sql_name = "createdAt"]
        created_at -> Datetime,
    }
}

diesel::joinable!(idempotency_key -> email_job (email_job_id));

diesel::table! {
    /// An API key: its token's hash and lookup prefix, never the token.
    #[sql_name = "ApiKey"]
    api_key (id) {
        id -> Varchar,
        name -> Varchar,
        prefix -> Varchar,
        #[sql_name = "tokenHash"]
        token_hash -> Binary,
        scopes -> Varchar,
        #[sql_name = "createdAt"]
        created_at -> Datetime,
        #[sql_name = "revokedAt"]
        revoked_at -> Nullable<Datetime>,
    }
}

diesel::table! {
    /// The audit trail: who changed what, when and from where.
    #[sql_name = "Activity"]
    activity (id) {
        id -> Varchar,
        action -> Varchar,
        #[sql_name = "emailJobId"]
        email_job_id -> Nullable<Varchar>,
        #[sql_name = "keyId"]
        key_id -> Nullable<Varchar>,
        #[sql_name = "keyName"]
        key_name -> Varchar,
        #[sql_name = "clientAddress"]
        client_address -> Nullable<Varchar>,
        #[sql_name = "createdAt"]
        created_at -> Datetime,
    }
}

diesel::table! {
    /// The suppression list: one lowercased address per row.
    #[sql_name = "Suppression"]
    suppression (email) {
        email -> Varchar,
        reason -> Varchar,
        #[sql_name = "emailJobId"]
        email_job_id -> Nullable<Varchar>,
        #[sql_name = "createdAt"]
        created_at -> Datetime,
    }
}

diesel::table! {
    /// The shards of a campaign sent by many workers, and their leases.
    #[sql_name = "CampaignShard"]
    campaign_shard (email_job_id, shard) {
        #[sql_name = "emailJobId"]
        email_job_id -> Varchar,
        shard -> Unsigned<Integer>,
        #[sql_name = "afterRecipientId"]
        after_recipient_id -> Nullable<Varchar>,
        #[sql_name = "throughRecipientId"]
        through_recipient_id -> Nullable<Varchar>,
        #[sql_name = "leasedBy"]
        leased_by -> Nullable<Varchar>,
        #[sql_name = "leaseToken"]
        lease_token -> Nullable<Varchar>,
        #[sql_name = "leasedUntil"]
        leased_until -> Nullable<Datetime>,
        #[sql_name = "doneAt"]
        done_at -> Nullable<Datetime>,
    }
}

diesel::joinable!(campaign_shard -> email_job (email_job_id));
