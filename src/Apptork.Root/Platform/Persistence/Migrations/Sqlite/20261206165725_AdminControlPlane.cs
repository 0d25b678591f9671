using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AdminControlPlane : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "admin_audit",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    staff_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    staff_email = table.Column<string>(type: "TEXT", maxLength: 254, nullable: false),
                    action = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    target = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    before = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    after = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    reason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    at = table.Column<long>(type: "INTEGER", nullable: false),
                    ip = table.Column<string>(type: "TEXT", maxLength: 45, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_admin_audit", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "staff_members",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    email = table.Column<string>(type: "TEXT", maxLength: 254, nullable: false),
                    normalized_email = table.Column<string>(type: "TEXT", maxLength: 254, nullable: false),
                    role = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    password_hash = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    failed_sign_ins = table.Column<int>(type: "INTEGER", nullable: false),
                    lockout_end = table.Column<long>(type: "INTEGER", nullable: true),
                    protected_totp_secret = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    last_totp_step = table.Column<long>(type: "INTEGER", nullable: true),
                    enrolled_at = table.Column<long>(type: "INTEGER", nullable: true),
                    security_stamp = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    disabled_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_staff_members", x => x.id);
                    table.CheckConstraint("ck_staff_members_role", "role IN ('superuser', 'support', 'finance')");
                });

            migrationBuilder.CreateTable(
                name: "staff_recovery_codes",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    staff_member_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    code_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    used_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_staff_recovery_codes", x => x.id);
                    table.ForeignKey(
                        name: "fk_staff_recovery_codes_staff_members_staff_member_id",
                        column: x => x.staff_member_id,
                        principalTable: "staff_members",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_admin_audit_staff_id",
                table: "admin_audit",
                columns: new[] { "staff_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ux_staff_members_normalized_email",
                table: "staff_members",
                column: "normalized_email",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_staff_recovery_codes_member_hash",
                table: "staff_recovery_codes",
                columns: new[] { "staff_member_id", "code_hash" },
                unique: true);

            // Append-only like the ledger: an audit trail that can be edited is no evidence. EF Core's model cannot express triggers, hence SQL.
            migrationBuilder.Sql("""
                CREATE TRIGGER tr_admin_audit_no_update BEFORE UPDATE ON admin_audit
                BEGIN SELECT RAISE(ABORT, 'admin_audit is append-only: UPDATE refused'); END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER tr_admin_audit_no_delete BEFORE DELETE ON admin_audit
                BEGIN SELECT RAISE(ABORT, 'admin_audit is append-only: DELETE refused'); END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER tr_admin_audit_no_delete;");
            migrationBuilder.Sql("DROP TRIGGER tr_admin_audit_no_update;");

            migrationBuilder.DropTable(
                name: "admin_audit");

            migrationBuilder.DropTable(
                name: "staff_recovery_codes");

            migrationBuilder.DropTable(
                name: "staff_members");
        }
    }
}
