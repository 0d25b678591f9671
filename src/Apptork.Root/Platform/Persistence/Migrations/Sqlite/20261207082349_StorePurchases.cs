using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StorePurchases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "app_store_product_id",
                table: "credit_packs",
                type: "TEXT",
                maxLength: 150,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "google_play_product_id",
                table: "credit_packs",
                type: "TEXT",
                maxLength: 150,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "store_revocations",
                columns: table => new
                {
                    store = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    transaction_id = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    revoked_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_store_revocations", x => new { x.store, x.transaction_id });
                });

            migrationBuilder.UpdateData(
                table: "credit_packs",
                keyColumn: "id",
                keyValue: "pro",
                columns: new[] { "app_store_product_id", "google_play_product_id" },
                values: new object[] { null, null });

            migrationBuilder.UpdateData(
                table: "credit_packs",
                keyColumn: "id",
                keyValue: "standard",
                columns: new[] { "app_store_product_id", "google_play_product_id" },
                values: new object[] { null, null });

            migrationBuilder.UpdateData(
                table: "credit_packs",
                keyColumn: "id",
                keyValue: "starter",
                columns: new[] { "app_store_product_id", "google_play_product_id" },
                values: new object[] { null, null });

            migrationBuilder.CreateIndex(
                name: "ix_credit_packs_app_store_product_id",
                table: "credit_packs",
                column: "app_store_product_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_credit_packs_google_play_product_id",
                table: "credit_packs",
                column: "google_play_product_id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "store_revocations");

            migrationBuilder.DropIndex(
                name: "ix_credit_packs_app_store_product_id",
                table: "credit_packs");

            migrationBuilder.DropIndex(
                name: "ix_credit_packs_google_play_product_id",
                table: "credit_packs");

            migrationBuilder.DropColumn(
                name: "app_store_product_id",
                table: "credit_packs");

            migrationBuilder.DropColumn(
                name: "google_play_product_id",
                table: "credit_packs");
        }
    }
}
