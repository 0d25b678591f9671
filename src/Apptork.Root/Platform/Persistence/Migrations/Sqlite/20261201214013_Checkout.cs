using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

#pragma warning disable CA1814 // Prefer jagged arrays over multidimensional

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Checkout : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "account_flags",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    reference = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    detail = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_account_flags", x => x.id);
                    table.ForeignKey(
                        name: "fk_account_flags_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "credit_packs",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    credits = table.Column<long>(type: "INTEGER", nullable: false),
                    price = table.Column<long>(type: "INTEGER", nullable: false),
                    currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                    is_active = table.Column<bool>(type: "INTEGER", nullable: false),
                    sort_order = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_credit_packs", x => x.id);
                    table.CheckConstraint("ck_credit_packs_credits_positive", "credits > 0");
                    table.CheckConstraint("ck_credit_packs_price_positive", "price > 0");
                });

            migrationBuilder.CreateTable(
                name: "payments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    pack_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    credits = table.Column<long>(type: "INTEGER", nullable: false),
                    amount = table.Column<long>(type: "INTEGER", nullable: false),
                    currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                    provider = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    flow = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    provider_session_id = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    provider_payment_id = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    device_id_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    paid_at = table.Column<long>(type: "INTEGER", nullable: true),
                    amount_refunded = table.Column<long>(type: "INTEGER", nullable: false),
                    amount_disputed_lost = table.Column<long>(type: "INTEGER", nullable: false),
                    credited_at = table.Column<long>(type: "INTEGER", nullable: true),
                    credits_reversed = table.Column<long>(type: "INTEGER", nullable: false),
                    shortfall_credits = table.Column<long>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payments", x => x.id);
                    table.CheckConstraint("ck_payments_credits_reversed", "credits_reversed >= 0 AND credits_reversed <= credits");
                    table.CheckConstraint("ck_payments_shortfall", "shortfall_credits >= 0 AND shortfall_credits <= credits_reversed");
                    table.ForeignKey(
                        name: "fk_payments_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "processed_payment_events",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    payment_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    processed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_processed_payment_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "credit_pack_names",
                columns: table => new
                {
                    pack_id = table.Column<string>(type: "TEXT", nullable: false),
                    language = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_credit_pack_names", x => new { x.pack_id, x.language });
                    table.ForeignKey(
                        name: "fk_credit_pack_names_credit_packs_pack_id",
                        column: x => x.pack_id,
                        principalTable: "credit_packs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.InsertData(
                table: "credit_packs",
                columns: new[] { "id", "credits", "currency", "is_active", "price", "sort_order" },
                values: new object[,]
                {
                    { "pro", 1500L, "usd", true, 4999L, 3 },
                    { "standard", 500L, "usd", true, 1999L, 2 },
                    { "starter", 100L, "usd", true, 499L, 1 }
                });

            migrationBuilder.InsertData(
                table: "users",
                columns: new[] { "id", "access_failed_count", "concurrency_stamp", "created_at", "deleted_at", "disabled_at", "display_name", "email", "email_confirmed", "locale", "lockout_enabled", "lockout_end", "normalized_email", "normalized_user_name", "password_hash", "phone_number", "phone_number_confirmed", "role", "security_stamp", "two_factor_enabled", "user_name" },
                values: new object[] { new Guid("00000000-0000-0000-0000-00000000a001"), 0, "system-shortfall", 1309320806400000000L, null, 1309320806400000000L, "System: payment shortfall", null, false, null, false, null, null, "SYSTEM.SHORTFALL", null, null, false, "free", "system-shortfall", false, "system.shortfall" });

            migrationBuilder.InsertData(
                table: "credit_pack_names",
                columns: new[] { "language", "pack_id", "name" },
                values: new object[,]
                {
                    { "de", "pro", "Profipaket" },
                    { "en", "pro", "Pro pack" },
                    { "es", "pro", "Paquete pro" },
                    { "fr", "pro", "Pack pro" },
                    { "pt-BR", "pro", "Pacote pro" },
                    { "de", "standard", "Standardpaket" },
                    { "en", "standard", "Standard pack" },
                    { "es", "standard", "Paquete estándar" },
                    { "fr", "standard", "Pack standard" },
                    { "pt-BR", "standard", "Pacote padrão" },
                    { "de", "starter", "Startpaket" },
                    { "en", "starter", "Starter pack" },
                    { "es", "starter", "Paquete inicial" },
                    { "fr", "starter", "Pack découverte" },
                    { "pt-BR", "starter", "Pacote inicial" }
                });

            migrationBuilder.InsertData(
                table: "wallets",
                columns: new[] { "user_id", "balance", "updated_at" },
                values: new object[] { new Guid("00000000-0000-0000-0000-00000000a001"), 0L, 1309320806400000000L });

            migrationBuilder.CreateIndex(
                name: "ix_account_flags_user_id_reason_reference",
                table: "account_flags",
                columns: new[] { "user_id", "reason", "reference" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_payments_provider_payment_id",
                table: "payments",
                column: "provider_payment_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_payments_provider_session_id",
                table: "payments",
                column: "provider_session_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_payments_user_id_created_at",
                table: "payments",
                columns: new[] { "user_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_processed_payment_events_payment_id",
                table: "processed_payment_events",
                column: "payment_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "account_flags");

            migrationBuilder.DropTable(
                name: "credit_pack_names");

            migrationBuilder.DropTable(
                name: "payments");

            migrationBuilder.DropTable(
                name: "processed_payment_events");

            migrationBuilder.DropTable(
                name: "credit_packs");

            migrationBuilder.DeleteData(
                table: "wallets",
                keyColumn: "user_id",
                keyValue: new Guid("00000000-0000-0000-0000-00000000a001"));

            migrationBuilder.DeleteData(
                table: "users",
                keyColumn: "id",
                keyValue: new Guid("00000000-0000-0000-0000-00000000a001"));
        }
    }
}
