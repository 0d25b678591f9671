using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Avatars : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_files_user_id_created_at",
                table: "files");

            migrationBuilder.AddColumn<Guid>(
                name: "avatar_file_id",
                table: "users",
                type: "TEXT",
                nullable: true);

            migrationBuilder.UpdateData(
                table: "users",
                keyColumn: "id",
                keyValue: new Guid("00000000-0000-0000-0000-00000000a001"),
                column: "avatar_file_id",
                value: null);

            migrationBuilder.CreateIndex(
                name: "ix_users_avatar_file_id",
                table: "users",
                column: "avatar_file_id");

            migrationBuilder.CreateIndex(
                name: "ix_files_user_id_created_at_id",
                table: "files",
                columns: new[] { "user_id", "created_at", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_users_avatar_file_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_files_user_id_created_at_id",
                table: "files");

            migrationBuilder.DropColumn(
                name: "avatar_file_id",
                table: "users");

            migrationBuilder.CreateIndex(
                name: "ix_files_user_id_created_at",
                table: "files",
                columns: new[] { "user_id", "created_at" });
        }
    }
}
