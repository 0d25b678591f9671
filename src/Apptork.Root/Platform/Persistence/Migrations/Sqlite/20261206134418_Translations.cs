using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Translations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "translations",
                columns: table => new
                {
                    owner = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    owner_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    field = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    language = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    text = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_translations", x => new { x.owner, x.owner_id, x.field, x.language });
                });

            // The pack names move, with whatever operators changed, into the one table of translated texts.
            migrationBuilder.Sql(
                "INSERT INTO translations (owner, owner_id, field, language, text) SELECT 'credit_pack', pack_id, 'name', language, name FROM credit_pack_names");
            migrationBuilder.DropTable(
                name: "credit_pack_names");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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

            migrationBuilder.Sql(
                "INSERT INTO credit_pack_names (pack_id, language, name) SELECT owner_id, language, substr(text, 1, 100) FROM translations "
                + "WHERE owner = 'credit_pack' AND field = 'name' AND owner_id IN (SELECT id FROM credit_packs)");
            migrationBuilder.DropTable(
                name: "translations");
        }
    }
}
