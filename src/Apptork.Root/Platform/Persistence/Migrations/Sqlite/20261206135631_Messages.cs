using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Messages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "messages",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    severity = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    action_url = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    starts_at = table.Column<long>(type: "INTEGER", nullable: false),
                    ends_at = table.Column<long>(type: "INTEGER", nullable: true),
                    platforms = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    min_app_version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    max_app_version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    sign_in = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    roles = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    dismissible = table.Column<bool>(type: "INTEGER", nullable: false),
                    priority = table.Column<int>(type: "INTEGER", nullable: false),
                    created_by = table.Column<Guid>(type: "TEXT", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_by = table.Column<Guid>(type: "TEXT", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_messages", x => x.id);
                    table.CheckConstraint("ck_messages_priority_range", "priority >= 0 AND priority <= 1000");
                });

            migrationBuilder.CreateTable(
                name: "message_dismissals",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    dismisser = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    dismissed_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_message_dismissals", x => new { x.message_id, x.dismisser });
                    table.ForeignKey(
                        name: "fk_message_dismissals_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_message_dismissals_dismisser",
                table: "message_dismissals",
                column: "dismisser");

            migrationBuilder.CreateIndex(
                name: "ix_messages_created_at_id",
                table: "messages",
                columns: new[] { "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_messages_ends_at",
                table: "messages",
                column: "ends_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "message_dismissals");

            migrationBuilder.DropTable(
                name: "messages");
        }
    }
}
