using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddRegistrations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "registrations",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    email_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    device_id_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ip = table.Column<string>(type: "TEXT", maxLength: 45, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    bonus_eligible = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_registrations", x => x.id);
                    table.ForeignKey(
                        name: "fk_registrations_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_registrations_device_id_hash",
                table: "registrations",
                column: "device_id_hash");

            migrationBuilder.CreateIndex(
                name: "ix_registrations_email_hash",
                table: "registrations",
                column: "email_hash");

            migrationBuilder.CreateIndex(
                name: "ix_registrations_ip_created_at",
                table: "registrations",
                columns: new[] { "ip", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_registrations_user_id",
                table: "registrations",
                column: "user_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "registrations");
        }
    }
}
