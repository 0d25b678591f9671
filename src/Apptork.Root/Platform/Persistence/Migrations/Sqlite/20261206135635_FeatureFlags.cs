using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FeatureFlags : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "feature_flags",
                columns: table => new
                {
                    key = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    rollout_percentage = table.Column<int>(type: "INTEGER", nullable: false),
                    roles = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    platforms = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    min_app_version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    max_app_version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    starts_at = table.Column<long>(type: "INTEGER", nullable: true),
                    ends_at = table.Column<long>(type: "INTEGER", nullable: true),
                    updated_by = table.Column<Guid>(type: "TEXT", nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_feature_flags", x => x.key);
                    table.CheckConstraint("ck_feature_flags_rollout_percentage", "rollout_percentage BETWEEN 0 AND 100");
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "feature_flags");
        }
    }
}
