using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddWallet : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "wallets",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    balance = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_wallets", x => x.user_id);
                    table.CheckConstraint("ck_wallets_balance_not_negative", "balance >= 0");
                    table.ForeignKey(
                        name: "fk_wallets_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ledger_entries",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    amount = table.Column<long>(type: "INTEGER", nullable: false),
                    balance_after = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    reference = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    idempotency_key = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    @operator = table.Column<string>(name: "operator", type: "TEXT", maxLength: 255, nullable: true),
                    memo = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ledger_entries", x => x.id);
                    table.CheckConstraint("ck_ledger_entries_amount_not_zero", "amount <> 0");
                    table.CheckConstraint("ck_ledger_entries_balance_after_not_negative", "balance_after >= 0");
                    table.CheckConstraint("ck_ledger_entries_kind", "kind IN ('signup_bonus', 'purchase', 'generation', 'refund', 'adjustment', 'reversal')");
                    table.ForeignKey(
                        name: "fk_ledger_entries_wallets_user_id",
                        column: x => x.user_id,
                        principalTable: "wallets",
                        principalColumn: "user_id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_user_id_id",
                table: "ledger_entries",
                columns: new[] { "user_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ux_ledger_entries_user_id_idempotency_key",
                table: "ledger_entries",
                columns: new[] { "user_id", "idempotency_key" },
                unique: true);

            // Append-only in the database itself, not only by convention: a correction is a new entry, and no code
            // path or hand-written statement can rewrite history. EF Core's model cannot express triggers, hence SQL.
            migrationBuilder.Sql("""
                CREATE TRIGGER tr_ledger_entries_no_update BEFORE UPDATE ON ledger_entries
                BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: UPDATE refused'); END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER tr_ledger_entries_no_delete BEFORE DELETE ON ledger_entries
                BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: DELETE refused'); END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER tr_ledger_entries_no_delete;");
            migrationBuilder.Sql("DROP TRIGGER tr_ledger_entries_no_update;");

            migrationBuilder.DropTable(
                name: "ledger_entries");

            migrationBuilder.DropTable(
                name: "wallets");
        }
    }
}
