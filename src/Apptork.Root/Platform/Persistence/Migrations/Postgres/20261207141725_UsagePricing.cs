using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UsagePricing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_ledger_entries_amount_not_zero",
                table: "ledger_entries");

            migrationBuilder.DropCheckConstraint(
                name: "ck_ledger_entries_kind",
                table: "ledger_entries");

            migrationBuilder.AddColumn<long>(
                name: "held",
                table: "wallets",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "held_change",
                table: "ledger_entries",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "hold",
                table: "generations",
                type: "bigint",
                nullable: true);

            migrationBuilder.UpdateData(
                table: "wallets",
                keyColumn: "user_id",
                keyValue: new Guid("00000000-0000-0000-0000-00000000a001"),
                column: "held",
                value: 0L);

            migrationBuilder.AddCheckConstraint(
                name: "ck_wallets_held_within_balance",
                table: "wallets",
                sql: "held >= 0 AND held <= balance");

            migrationBuilder.AddCheckConstraint(
                name: "ck_ledger_entries_kind",
                table: "ledger_entries",
                sql: "kind IN ('signup_bonus', 'purchase', 'generation', 'refund', 'adjustment', 'reversal', 'hold', 'release')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_ledger_entries_moves_credits",
                table: "ledger_entries",
                sql: "amount <> 0 OR held_change <> 0");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_wallets_held_within_balance",
                table: "wallets");

            migrationBuilder.DropCheckConstraint(
                name: "ck_ledger_entries_kind",
                table: "ledger_entries");

            migrationBuilder.DropCheckConstraint(
                name: "ck_ledger_entries_moves_credits",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "held",
                table: "wallets");

            migrationBuilder.DropColumn(
                name: "held_change",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "hold",
                table: "generations");

            migrationBuilder.AddCheckConstraint(
                name: "ck_ledger_entries_amount_not_zero",
                table: "ledger_entries",
                sql: "amount <> 0");

            migrationBuilder.AddCheckConstraint(
                name: "ck_ledger_entries_kind",
                table: "ledger_entries",
                sql: "kind IN ('signup_bonus', 'purchase', 'generation', 'refund', 'adjustment', 'reversal')");
        }
    }
}
