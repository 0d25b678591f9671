using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class GenerationRequestFields : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "idempotency_key",
                table: "generations",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "image_size",
                table: "generations",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "max_output_tokens",
                table: "generations",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_generations_user_id_idempotency_key",
                table: "generations",
                columns: new[] { "user_id", "idempotency_key" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_generations_user_id_idempotency_key",
                table: "generations");

            migrationBuilder.DropColumn(
                name: "idempotency_key",
                table: "generations");

            migrationBuilder.DropColumn(
                name: "image_size",
                table: "generations");

            migrationBuilder.DropColumn(
                name: "max_output_tokens",
                table: "generations");
        }
    }
}
