using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class GenerationsPageIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_generations_user_id_id",
                table: "generations");

            migrationBuilder.CreateIndex(
                name: "ix_generations_user_id_created_at_id",
                table: "generations",
                columns: new[] { "user_id", "created_at", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_generations_user_id_created_at_id",
                table: "generations");

            migrationBuilder.CreateIndex(
                name: "ix_generations_user_id_id",
                table: "generations",
                columns: new[] { "user_id", "id" });
        }
    }
}
