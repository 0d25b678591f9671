using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class GenerationDispatchTraceParent : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                table: "undispatched_generations",
                type: "TEXT",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "trace_parent",
                table: "undispatched_generations");
        }
    }
}
