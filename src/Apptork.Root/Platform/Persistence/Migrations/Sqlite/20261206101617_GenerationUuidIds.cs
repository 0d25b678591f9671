using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <summary>
    /// Generation ids become UUIDs v7 (time-ordered, from each row's creation time, so lists keep their order) and every
    /// place that names an existing generation by its old number follows: the ledger's references and idempotency keys,
    /// and the kept answers of the requests that created them. Nothing else stores a generation id: its image file is
    /// found through <c>result_file_id</c>, and jobs queued under the old numbers fail to load, their generations
    /// being enqueued again by the recovery sweep once stale.
    /// </summary>
    public partial class GenerationUuidIds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // created_at is DateTimeOffsetToBinaryConverter's number: (ticks / 1000) << 11, offset 0; Unix ms from it.
            // Ids are stored as EF Core stores a Guid on SQLite (upper case); references carry Guid.ToString() (lower case).
            migrationBuilder.Sql("""
                CREATE TABLE generation_uuid_ids (old_id INTEGER NOT NULL PRIMARY KEY, new_id TEXT NOT NULL, user_id TEXT NOT NULL);
                INSERT INTO generation_uuid_ids (old_id, new_id, user_id)
                SELECT id,
                    substr(ms, 1, 8) || '-' || substr(ms, 9, 4) || '-7' || substr(hex(randomblob(2)), 1, 3) || '-'
                        || substr('89AB', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 1, 3) || '-' || hex(randomblob(6)),
                    user_id
                FROM (SELECT id, user_id, printf('%012X', ((created_at >> 11) - 621355968000000) / 10) AS ms FROM generations);
                """);

            // The table rebuild EF Core would make for the new key type, written here so that each row takes its new id
            // (EF Core's own runs after every statement of the migration, when the mapping is gone). No table refers to it.
            migrationBuilder.Sql("""
                CREATE TABLE "ef_temp_generations" (
                    "id" TEXT NOT NULL CONSTRAINT "pk_generations" PRIMARY KEY,
                    "attempts" INTEGER NOT NULL,
                    "completed_at" INTEGER NULL,
                    "cost" INTEGER NOT NULL,
                    "created_at" INTEGER NOT NULL,
                    "error" TEXT NULL,
                    "idempotency_key" TEXT NULL,
                    "image_size" TEXT NULL,
                    "max_output_tokens" INTEGER NULL,
                    "prompt" TEXT NOT NULL,
                    "request_hash" BLOB NULL,
                    "result_file_id" TEXT NULL,
                    "result_text" TEXT NULL,
                    "status" TEXT NOT NULL,
                    "type" TEXT NOT NULL,
                    "updated_at" INTEGER NOT NULL,
                    "user_id" TEXT NOT NULL,
                    CONSTRAINT "fk_generations_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE RESTRICT
                );

                INSERT INTO "ef_temp_generations" ("id", "attempts", "completed_at", "cost", "created_at", "error", "idempotency_key", "image_size", "max_output_tokens", "prompt", "request_hash", "result_file_id", "result_text", "status", "type", "updated_at", "user_id")
                SELECT m.new_id, g."attempts", g."completed_at", g."cost", g."created_at", g."error", g."idempotency_key", g."image_size", g."max_output_tokens", g."prompt", g."request_hash", g."result_file_id", g."result_text", g."status", g."type", g."updated_at", g."user_id"
                FROM "generations" AS g JOIN generation_uuid_ids AS m ON m.old_id = g.id;

                DROP TABLE "generations";
                ALTER TABLE "ef_temp_generations" RENAME TO "generations";

                CREATE INDEX "ix_generations_status_updated_at" ON "generations" ("status", "updated_at");
                CREATE INDEX "ix_generations_user_id_id" ON "generations" ("user_id", "id");
                CREATE UNIQUE INDEX "ix_generations_user_id_idempotency_key" ON "generations" ("user_id", "idempotency_key");
                """);

            // The ledger stays append-only for everything but this one renaming of its references; amounts are untouched.
            migrationBuilder.Sql("""
                DROP TRIGGER tr_ledger_entries_no_update;

                UPDATE ledger_entries SET reference = 'generation:' || lower(m.new_id)
                FROM generation_uuid_ids AS m
                WHERE ledger_entries.user_id = m.user_id AND ledger_entries.reference = 'generation:' || m.old_id;

                UPDATE ledger_entries SET idempotency_key = 'generation:' || lower(m.new_id) || substr(ledger_entries.idempotency_key, length('generation:' || m.old_id) + 1)
                FROM generation_uuid_ids AS m
                WHERE ledger_entries.user_id = m.user_id
                    AND ledger_entries.idempotency_key IN ('generation:' || m.old_id || ':charge', 'generation:' || m.old_id || ':refund');

                CREATE TRIGGER tr_ledger_entries_no_update BEFORE UPDATE ON ledger_entries
                BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: UPDATE refused'); END;
                """);

            // A replay of a creating request answers its kept body: it must name the generation by its new id.
            migrationBuilder.Sql("""
                UPDATE idempotency_records
                SET body = CAST(replace(CAST(body AS TEXT), '{"id":' || m.old_id || ',', '{"id":"' || lower(m.new_id) || '",') AS BLOB)
                FROM generation_uuid_ids AS m JOIN generations AS g ON g.id = m.new_id
                WHERE idempotency_records.user_id = m.user_id AND idempotency_records."key" = g.idempotency_key AND idempotency_records.body IS NOT NULL;

                DROP TABLE generation_uuid_ids;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) =>
            throw new NotSupportedException("Generation ids cannot become numbers again (clients already hold the UUIDs): restore the backup taken before this upgrade.");
    }
}
