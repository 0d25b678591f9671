using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Postgres
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
            // A UUID v7: 48 bits of Unix milliseconds, the version, then a random UUID's random bits and the variant.
            migrationBuilder.Sql("""
                CREATE TABLE generation_uuid_ids (old_id bigint PRIMARY KEY, new_id uuid NOT NULL, user_id uuid NOT NULL);
                INSERT INTO generation_uuid_ids (old_id, new_id, user_id)
                SELECT id,
                    (lpad(to_hex(floor(extract(epoch FROM created_at) * 1000)::bigint), 12, '0') || '7' || substr(r, 14, 3)
                        || substr('89ab', 1 + floor(random() * 4)::int, 1) || substr(r, 18, 15))::uuid,
                    user_id
                FROM (SELECT id, user_id, created_at, replace(gen_random_uuid()::text, '-', '') AS r FROM generations) AS g;

                ALTER TABLE generations ALTER COLUMN id DROP IDENTITY;
                ALTER TABLE generations ALTER COLUMN id TYPE uuid USING lpad(to_hex(id), 32, '0')::uuid;
                UPDATE generations SET id = m.new_id FROM generation_uuid_ids AS m WHERE generations.id = lpad(to_hex(m.old_id), 32, '0')::uuid;
                """);

            // The ledger stays append-only for everything but this one renaming of its references; amounts are untouched.
            migrationBuilder.Sql("""
                ALTER TABLE ledger_entries DISABLE TRIGGER tr_ledger_entries_append_only;

                UPDATE ledger_entries SET reference = 'generation:' || m.new_id
                FROM generation_uuid_ids AS m
                WHERE ledger_entries.user_id = m.user_id AND ledger_entries.reference = 'generation:' || m.old_id;

                UPDATE ledger_entries SET idempotency_key = 'generation:' || m.new_id || substr(ledger_entries.idempotency_key, length('generation:' || m.old_id) + 1)
                FROM generation_uuid_ids AS m
                WHERE ledger_entries.user_id = m.user_id
                    AND ledger_entries.idempotency_key IN ('generation:' || m.old_id || ':charge', 'generation:' || m.old_id || ':refund');

                ALTER TABLE ledger_entries ENABLE TRIGGER tr_ledger_entries_append_only;
                """);

            // A replay of a creating request answers its kept body: it must name the generation by its new id.
            migrationBuilder.Sql("""
                UPDATE idempotency_records
                SET body = convert_to(replace(convert_from(body, 'UTF8'), '{"id":' || m.old_id || ',', '{"id":"' || m.new_id || '",'), 'UTF8')
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
